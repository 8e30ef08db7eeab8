"""The docs tests share the test suite's browser helpers (tests/browser.py)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # the migration page's Keras examples: JAX imports fastest here

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
