"""The HTML report in headless Chromium: renders offline, no console errors, rows and charts.

Chromium is installed by ``scripts/ensure-chromium.sh`` (called by ``make test``); without it
these tests are skipped with that hint. The screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from replay_corpus import SINCE, UNTIL

from streams.settings import Settings
from streams.tools.replay import ReplayOptions, backtest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.skip("headless Chromium not installed: run scripts/ensure-chromium.sh")
    return found


def _browse(page: Path, profile: Path, *extra: str) -> tuple[str, list[str]]:
    """Open ``page`` offline; returns stdout and the console lines Chromium logged."""
    proc = subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


@pytest.fixture
def report_html(
    make_settings: Callable[..., Settings],
    watchlists: tuple[Path, Path],
    labels_file: Path,
    corpus_jsonl: Callable[..., Path],
    replay_enricher: Any,
    tmp_path: Path,
) -> Path:
    """The HTML report of the labelled corpus (offline replay)."""
    new, base = watchlists
    options = ReplayOptions(
        watchlist=new,
        baseline=base,
        since=SINCE,
        until=UNTIL,
        labels=labels_file,
        inputs=[corpus_jsonl()],
        report=tmp_path / "report.html",
        progress=False,
    )
    result = asyncio.run(backtest(make_settings(), options, enricher=replay_enricher))
    assert result.html_path is not None
    return result.html_path


def test_report_renders_offline_in_chromium(report_html: Path, tmp_path: Path) -> None:
    """Chromium renders a row and a chart per rule, logs nothing, and takes a screenshot."""
    dom, console = _browse(report_html, tmp_path / "profile", "--dump-dom")
    assert console == []
    rules = ["alibaba-espionage", "tiktok-data", "huawei"]
    assert re.findall(r'<tr class="rule-row" data-rule="([^"]+)"', dom) == rules
    assert re.findall(r'<svg class="timeline" data-rule="([^"]+)"', dom) == rules
    assert dom.count('class="new"') == 3 * 4  # a NEW bar per rule per day (4 days)
    assert "<script" not in dom and "<img" not in dom  # the hostile title stayed text
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;img" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "replay-report.png"
    shot.unlink(missing_ok=True)
    _browse(report_html, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_console_check_catches_errors_and_fetches(tmp_path: Path) -> None:
    """The console scan is not blind: a script error and a blocked fetch are both seen."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        '<img src="http://192.0.2.1/x.png"><p>x</p><script>undefinedFn()</script>'
        "</body></html>",
        encoding="utf-8",
    )
    _, console = _browse(page, tmp_path / "profile", "--dump-dom")
    assert any("192.0.2.1" in line for line in console)
    assert any("undefinedFn is not defined" in line for line in console)
