"""Write (or check) the container stack's generated files from the
topology description: `deploy/topology.py` -> docker/.

    .venv/bin/python scripts/stack.py generate   # after changing deploy/
    .venv/bin/python scripts/stack.py check      # what CI's unit test does
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.compose import generated_files  # noqa: E402

DOCKER = ROOT / "docker"


def stale() -> list[str]:
    """Generated files that differ from (or are missing in) docker/."""
    return [
        path
        for path, text in generated_files().items()
        if not (DOCKER / path).exists() or (DOCKER / path).read_text() != text
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["generate", "check"])
    args = parser.parse_args()
    if args.action == "check":
        found = stale()
        for path in found:
            print(f"docker/{path} is not what deploy/ generates", file=sys.stderr)
        if found:
            print("run: .venv/bin/python scripts/stack.py generate", file=sys.stderr)
        return 1 if found else 0
    for path, text in generated_files().items():
        target = DOCKER / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote docker/{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
