"""The fuzz suite's longer run: requests generated from docs/openapi.yaml
(tests/harness/fuzz.py) against a real homeserver with the cn profile,
as anonymous, a user and a server admin, for a time or example budget.

Prints the requests tried by route and role, the answers by status, every
5xx seen (with the request) and whether the homeserver's log holds a
traceback. Exits 1 if it saw a 5xx or a traceback.

    .venv/bin/python bench/fuzz.py [--minutes 3] [--backend sqlite|postgres]
        [--seed N]

(It puts this checkout first on the path, so it fuzzes this checkout even
where another copy of the module is installed.)
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import fuzz
from tests.harness.homeserver import Homeserver
from tests.harness.identity import cn_config

#: Examples per round; rounds repeat with new seeds until the time is up.
ROUND = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    hs = Homeserver(None, args.backend, name="fuzz")
    hs.module_config = cn_config(hs.dir)
    hs.write_config()
    hs.start()
    tally = fuzz.Tally()
    started = time.monotonic()
    try:
        user, admin = hs.register(), hs.register(admin=True)
        tokens = {
            "anonymous": None,
            "user": user.access_token,
            "admin": admin.access_token,
        }
        seed = args.seed
        while time.monotonic() - started < args.minutes * 60:
            fuzz.run(hs.base_url, tokens, ROUND, tally, seed=seed)
            seed += 1
        log = hs.log_text()
    finally:
        hs.destroy()
    elapsed = time.monotonic() - started
    _report(tally, elapsed, args.backend, log)
    return 1 if tally.server_errors or "Traceback" in log else 0


def _report(tally: fuzz.Tally, elapsed: float, backend: str, log: str) -> None:
    total = sum(tally.tried.values())
    _, ops = fuzz.operations()
    print(f"fuzz: {total} requests in {elapsed:.0f} s on {backend}, {len(ops)} routes")
    by_route: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for (label, role), count in tally.tried.items():
        by_route[label][role] += count
    print(f"\n{'route':<58} {'anon':>6} {'user':>6} {'admin':>6}")
    for op in ops:
        roles = by_route.get(op.label, collections.Counter())
        print(
            f"{op.label[:58]:<58} {roles['anonymous']:>6} {roles['user']:>6}"
            f" {roles['admin']:>6}"
        )
    print(
        "\nanswers: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    )
    print("(0: the connection dropped by Synapse, e.g. a multipart body)")
    print(f"5xx seen: {len(tally.server_errors)}")
    for line in tally.server_errors[:20]:
        print("  " + line)
    print(f"traceback in the homeserver log: {'yes' if 'Traceback' in log else 'no'}")


if __name__ == "__main__":
    sys.exit(main())
