"""Every shipped entry point answers ``--help``; ``newswatch --version``; clean help text."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _main_modules() -> list[str]:
    """Dotted names of every module of ours runnable with ``python -m``."""
    found = []
    for package in ("alerts", "streams", "schemas"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if path.name == "__main__.py" or re.search(r"^if __name__ == .__main__.:", text, re.M):
                parts = path.relative_to(ROOT).with_suffix("").parts
                found.append(".".join(p for p in parts if p != "__main__"))
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env=ENV, cwd=ROOT
    )


def test_every_runnable_module_is_found() -> None:
    """The helpers the issue names are among the discovered entry points."""
    modules = _main_modules()
    assert {"alerts.testing.smtp", "alerts.testing.slack", "streams.cli"} <= set(modules)


@pytest.mark.parametrize("module", _main_modules())
def test_every_helper_answers_help(module: str) -> None:
    """``python -m <helper> --help`` prints a usage text and exits 0 (smtp printed nothing)."""
    done = _run("-m", module, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower() and len(done.stdout.splitlines()) >= 3


def test_newswatch_version_and_help_without_bool_metavar() -> None:
    """``--version`` prints the package version; help lists ``--help`` without ``<bool>``."""
    from importlib.metadata import version

    done = _run("-m", "streams.cli", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"newswatch {version('newswatch')}"
    for args in (["--help"], ["watchlist", "--help"], ["replay", "--help"]):
        text = _run("-m", "streams.cli", *args).stdout
        help_line = next(line for line in text.splitlines() if line.strip().startswith("--help"))
        assert "<bool>" not in help_line and "Show this message and exit." in help_line
        assert "<bool>" not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.servers
def test_smtp_helper_prints_each_accepted_message() -> None:
    """Run from the shell, the SMTP capture prints sender, recipients and decoded subject."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alerts.testing.smtp", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(f"SMTP capture on 127.0.0.1:{port}")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "Behörden"
        msg.set_content("hi")
        deadline = time.monotonic() + 10
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                    smtp.send_message(msg)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert proc.stdout.readline().strip() == "a@example.com -> b@example.com: Behörden"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
