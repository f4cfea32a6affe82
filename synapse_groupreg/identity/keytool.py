"""The identity key file from the command line (A6).

    python -m synapse_groupreg.identity.keytool generate PATH
    python -m synapse_groupreg.identity.keytool rotate PATH [--staged]
    python -m synapse_groupreg.identity.keytool promote PATH KEY_ID
    python -m synapse_groupreg.identity.keytool show PATH

Rotation, one process: `rotate`, restart Synapse; the background job
re-encrypts every row under the new key (`GET /admin/v1/identities/keys`
counts the rows left per key); when the old key counts none, delete its
line and restart. With workers: `rotate --staged` (decrypt-only), restart
every process, `promote`, restart again, so no process ever meets a
ciphertext under a key it has not loaded. Never change the `hash` line:
person hashes (uniqueness, blacklist) depend on it.
"""

from __future__ import annotations

import argparse
import sys

from synapse_groupreg.identity.vault import (
    KeyFileError,
    generate_key_file,
    load_vault,
    promote_key,
    rotate_key_file,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synapse_groupreg.identity.keytool",
        description="Create and rotate synapse-groupreg's identity key file.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="create a new key file (0600)")
    generate.add_argument("path")
    rotate = commands.add_parser("rotate", help="add a new encryption key")
    rotate.add_argument("path")
    rotate.add_argument(
        "--staged",
        action="store_true",
        help="add it for decryption only; make it current later with promote",
    )
    promote = commands.add_parser("promote", help="make a staged key current")
    promote.add_argument("path")
    promote.add_argument("key_id")
    show = commands.add_parser("show", help="list the key ids, current first")
    show.add_argument("path")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            print(f"created {args.path} with key {generate_key_file(args.path)}")
        elif args.command == "rotate":
            key_id = rotate_key_file(args.path, staged=args.staged)
            state = "staged (decrypt only)" if args.staged else "current"
            print(f"added key {key_id}, {state}; restart Synapse to load it")
        elif args.command == "promote":
            promote_key(args.path, args.key_id)
            print(f"key {args.key_id} is current; restart Synapse to load it")
        else:
            vault = load_vault(args.path)
            print("\n".join(vault.key_ids))
    except (KeyFileError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
