"""Writing the lab's output files without ever writing outside the output folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_file(path: Path, text: str) -> Path:
    """Write ``text`` to a new file beside ``path``, then rename it to ``path``: whatever is at ``path``
    (a symbolic link included) is replaced, and nothing outside the folder is ever written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
