"""Writing the lab's output files without ever writing outside the output folder."""

from __future__ import annotations

import os
import re
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


def folder_name(name: str) -> str:
    """``name`` made a plain folder name: letters, digits, ``-``, ``_`` and inner dots (never ``..`` or a path).

    >>> folder_name("..."), folder_name("my data (v2)"), folder_name("../../etc"), folder_name("lr0.01")
    ('data', 'my_data_v2', 'etc', 'lr0.01')
    """
    return re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._-") or "data"
