"""The docs tests share the test suite's browser helpers (tests/browser.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
