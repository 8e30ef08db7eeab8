"""Headless Chromium for the tests that open a page: the lab's report, the documentation site.

Debian's chromium is installed by the test set-up (./dev.sh); without it these checks are skipped, except under
CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
)  # fmt: skip


def chromium() -> str:
    """The browser's path; a skip (or, under CI, a failure) without it."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and under CI pages must be checked in a browser")
        pytest.skip("chromium is not installed (apt-get install chromium); the browser check is skipped")
    return found


def open_page(page: Path, workdir: Path, *extra: str, budget_ms: int = 10000,
              hash: str = "") -> subprocess.CompletedProcess:  # fmt: skip
    """Chromium with a fresh profile in ``workdir``: with ``--dump-dom``, the page's DOM after its scripts ran
    (for ``budget_ms`` of virtual time); its log on stderr. ``hash`` is the address's fragment."""
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    command = [
        chromium(), *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        f"--virtual-time-budget={budget_ms}", *extra, page.resolve().as_uri() + (f"#{hash}" if hash else ""),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def console_messages(log: str) -> list[str]:
    """The page's console messages in Chromium's log."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]
