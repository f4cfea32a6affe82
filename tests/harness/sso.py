"""A real OpenID Connect identity provider on loopback, for the console's
single sign-on (G2).

It is `oidc-provider-mock` (PyPI), an OpenID provider built on Authlib:
discovery, the authorisation-code flow with its sign-in form, RS256-signed
ID tokens and their JWKS, userinfo. Whoever types a subject on its form is
signed in as that subject, which is what a test needs of an IdP; the
protocol Synapse speaks to it is the real one. It runs as its own process,
as an operator's IdP would, and Synapse is configured against it with its
own `oidc_providers` (synapse/handlers/oidc.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.harness.homeserver import free_port

IDP_ID = "corp"
IDP_NAME = "Corp SSO"
CLIENT_ID = "synapse"
CLIENT_SECRET = "synapse-test-secret"


class IdentityProvider:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "idp.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> IdentityProvider:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=log,
            stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        url = self.issuer + "/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the IdP exited: {self.log_path.read_text()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as r,
            ):
                if r.status == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the IdP did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def synapse_config(self, password: bool = True) -> dict[str, Any]:
        """homeserver.yaml keys: this IdP as an OIDC provider; the subject
        typed at the IdP becomes the Matrix localpart."""
        config: dict[str, Any] = {
            "oidc_providers": [
                {
                    "idp_id": IDP_ID,
                    "idp_name": IDP_NAME,
                    "issuer": self.issuer,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "scopes": ["openid", "profile"],
                    # Discovery over http on loopback: Synapse checks only
                    # the metadata's https-ness when this is off.
                    "skip_verification": True,
                    "user_mapping_provider": {
                        "config": {
                            "localpart_template": "{{ user.sub }}",
                            "display_name_template": "{{ user.sub }}",
                        }
                    },
                }
            ],
        }
        if not password:
            config["password_config"] = {"enabled": False}
        return config


@contextlib.contextmanager
def running_idp(folder: Path) -> Iterator[IdentityProvider]:
    idp = IdentityProvider(folder).start()
    try:
        yield idp
    finally:
        idp.stop()
