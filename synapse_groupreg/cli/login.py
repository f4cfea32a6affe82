"""`groupreg login|logout`: an access token got once and kept for the
next commands, in a file only its owner can read (0600).

    groupreg --url https://matrix.example.org login --user admin  # asks
    echo "$PASSWORD" | groupreg login --user admin --password-stdin
    groupreg login --sso                  # sign in with a browser (SSO)
    groupreg login --login-token syl_...  # a login token got elsewhere
    groupreg logout

The file is `$GROUPREG_CREDENTIALS`, or `$XDG_CONFIG_HOME/groupreg/credentials.json`
(`~/.config/groupreg/credentials.json`): one entry per server, and the
server last logged in to, which later commands use when neither `--url`
nor `GROUPREG_URL` names one.
"""

from __future__ import annotations

import argparse
import getpass
import http.server
import json
import os
import sys
import time
import urllib.parse
import webbrowser
from pathlib import Path
from typing import Any

from synapse_groupreg.cli.client import AdminClient, ApiError

MATRIX = "/_matrix/client/v3"


def credentials_path() -> Path:
    explicit = os.environ.get("GROUPREG_CREDENTIALS")
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "groupreg" / "credentials.json"


def load_credentials() -> dict[str, Any]:
    path = credentials_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"servers": {}}
    except (OSError, ValueError) as e:
        raise ApiError(0, {"error": f"cannot read {path}: {e}"}) from None
    if not isinstance(data, dict) or not isinstance(data.get("servers"), dict):
        raise ApiError(0, {"error": f"{path} is not a groupreg credentials file"})
    return data


def save_credentials(data: dict[str, Any]) -> Path:
    """Write the file readable by its owner only (folder 0700, file 0600),
    replacing it in one step."""
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def stored_login(url: str) -> dict[str, Any] | None:
    """The kept login for a server, if any (without touching the file's
    contents when there is none)."""
    if not credentials_path().exists():
        return None
    entry = load_credentials()["servers"].get(url.rstrip("/"))
    return entry if isinstance(entry, dict) else None


def stored_default_url() -> str | None:
    if not credentials_path().exists():
        return None
    url = load_credentials().get("default")
    return url if isinstance(url, str) else None


class LoginTokenCatcher:
    """A one-shot HTTP server on loopback that Synapse's SSO redirect comes
    back to with `?loginToken=...` (docs: the client-server API's
    `/login/sso/redirect?redirectUrl=`)."""

    def __init__(self) -> None:
        self.token: str | None = None
        catcher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.urlparse(self.path).query
                tokens = urllib.parse.parse_qs(query).get("loginToken")
                catcher.token = tokens[0] if tokens else catcher.token
                self.send_response(200 if tokens else 400)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(
                    b"Signed in: return to the terminal.\n"
                    if tokens
                    else b"No loginToken in this address.\n"
                )

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        try:
            while self.token is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ApiError(0, {"error": "no sign-in arrived in time"})
                self._server.timeout = min(left, 1.0)
                self._server.handle_request()
        finally:
            self._server.server_close()
        return self.token


def _sso_login_token(client: AdminClient, timeout: float) -> str:
    catcher = LoginTokenCatcher()
    address = f"{client.base_url}{MATRIX}/login/sso/redirect?" + urllib.parse.urlencode(
        {"redirectUrl": catcher.redirect_url}
    )
    print(f"Sign in in a browser at:\n  {address}", file=sys.stderr)
    webbrowser.open(address)
    return catcher.wait(timeout)


def _login_body(args: argparse.Namespace, client: AdminClient) -> dict[str, Any]:
    if args.login_token or args.sso:
        token = args.login_token or _sso_login_token(client, args.timeout)
        return {"type": "m.login.token", "token": token}
    user = args.user or input("User: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {user}: ")
    return {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
    }


def _login(client: AdminClient, args: argparse.Namespace) -> Any:
    body = _login_body(args, client)
    body["initial_device_display_name"] = "groupreg CLI"
    anonymous = AdminClient(client.base_url, "")
    answer = anonymous.call("POST", f"{MATRIX}/login", body, prefix="")
    url = client.base_url
    data = load_credentials()
    data["servers"][url] = {
        "user_id": answer["user_id"],
        "access_token": answer["access_token"],
        "device_id": answer.get("device_id"),
    }
    data["default"] = url
    path = save_credentials(data)
    return {
        "logged_in": answer["user_id"],
        "url": url,
        "device_id": answer.get("device_id"),
        "credentials": str(path),
    }


def _logout(client: AdminClient, args: argparse.Namespace) -> Any:
    data = load_credentials()
    entry = data["servers"].pop(client.base_url, None)
    if entry is None:
        raise ApiError(0, {"error": f"not logged in to {client.base_url}"})
    try:
        AdminClient(client.base_url, entry["access_token"]).call(
            "POST", f"{MATRIX}/logout", {}, prefix=""
        )
    except ApiError as e:
        if e.status != 401:  # a token the server no longer knows: forget it
            raise
    if data.get("default") == client.base_url:
        data.pop("default")
    save_credentials(data)
    return {"logged_out": entry["user_id"], "url": client.base_url}


def add_commands(commands: Any) -> None:
    login = commands.add_parser(
        "login", help="log in and keep the token (a 0600 file) for later commands"
    )
    how = login.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (scripts)",
    )
    how.add_argument("--login-token", help="an m.login.token got elsewhere (SSO)")
    how.add_argument(
        "--sso", action="store_true", help="sign in with the server's SSO, in a browser"
    )
    login.add_argument("--user", help="user id or localpart (password login)")
    login.add_argument(
        "--timeout", type=float, default=300, help="seconds to wait for --sso"
    )
    login.set_defaults(run=_login, needs_token=False, routes=())
    logout = commands.add_parser("logout", help="end the kept login and forget it")
    logout.set_defaults(run=_logout, needs_token=False, routes=())
