"""An SMTP capture server (aiosmtpd) on loopback, with TLS, AUTH and fault injection.

    with SmtpCapture(auth={"alice": "s3cret"}, starttls=True) as smtp:
        ... send to 127.0.0.1:smtp.port ...
        smtp.fail("DATA", 451, "try later")     # next DATA gets 451
        smtp.messages[0].message["Subject"]

``self_signed_cert(dir)`` makes a throwaway certificate for ``localhost``/``127.0.0.1``
with the ``openssl`` command line tool.

From the shell (``python -m alerts.testing.smtp --help``) it runs in the foreground and
prints one line per accepted message: sender, recipients and the decoded subject.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["CapturedMessage", "SmtpCapture", "self_signed_cert"]


@dataclass
class CapturedMessage:
    """One accepted message: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    authenticated_as: str | None


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """(cert, key) PEM files for CN=localhost, SAN localhost + 127.0.0.1 (needs openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command line tool is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, capture: SmtpCapture) -> None:
        self.capture = capture

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        fault = self.capture._take("MAIL")
        if fault:
            return fault
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        fault = self.capture._take("RCPT")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self.capture._take("DATA")
        if fault:
            return fault
        raw = bytes(envelope.original_content or envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        login = getattr(session, "auth_data", None)
        user = login.login.decode() if isinstance(login, LoginPassword) else None
        with self.capture._lock:
            self.capture.messages.append(
                CapturedMessage(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed, user)  # type: ignore[arg-type]
            )
        return "250 Message accepted"


class SmtpCapture:
    """aiosmtpd in a background thread; ``messages`` fills as mail is accepted."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        auth: dict[str, str] | None = None,
        cert: tuple[Path, Path] | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.auth = auth
        self.messages: list[CapturedMessage] = []
        self.auth_failures = 0
        self._faults: deque[tuple[str, str]] = deque()
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if cert is not None and (starttls or implicit_tls):
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(cert[0]), str(cert[1]))
            kwargs["ssl_context" if implicit_tls else "tls_context"] = ctx
            if starttls:
                kwargs["require_starttls"] = True
        if auth is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=bool(cert and (starttls or implicit_tls)),
            )
        self._controller = Controller(_Handler(self), hostname=host, port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.auth is not None:
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.auth.get(user) == password:
                return AuthResult(success=True, auth_data=auth_data)
        self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    def fail(
        self, stage: str, code: int, text: str = "injected failure", *, times: int = 1
    ) -> None:
        """Answer the next ``times`` commands of ``stage`` (MAIL, RCPT, DATA) with ``code``."""
        stage = stage.upper()
        if stage not in ("MAIL", "RCPT", "DATA"):
            raise ValueError("stage must be MAIL, RCPT or DATA")
        for _ in range(times):
            self._faults.append((stage, f"{code} {text}"))

    def _take(self, stage: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault[0] == stage:
                    self._faults.remove(fault)
                    return fault[1]
        return None

    def start(self) -> SmtpCapture:
        """Start the server thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        self._controller.stop()

    def __enter__(self) -> SmtpCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the capture server in the foreground and print each message it accepts."""
    parser = argparse.ArgumentParser(
        prog="python -m alerts.testing.smtp",
        description="SMTP capture server for trying newswatch's email channel "
        "(SMTP_HOST=127.0.0.1 SMTP_PORT=<port>); prints each accepted message.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address")
    parser.add_argument("--port", type=int, default=8025, help="listen port (default 8025)")
    parser.add_argument("--user", help="require AUTH with this user (with --password)")
    parser.add_argument("--password", help="the password of --user")
    args = parser.parse_args(argv)
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    auth = {args.user: args.password} if args.user else None
    with SmtpCapture(host=args.host, port=args.port, auth=auth) as server:
        print(f"SMTP capture on {server.host}:{server.port}", flush=True)
        shown = 0
        try:
            while True:
                for msg in server.messages[shown:]:
                    subject = msg.message["Subject"]
                    print(f"{msg.mail_from} -> {', '.join(msg.rcpt_tos)}: {subject}", flush=True)
                shown = len(server.messages)
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
