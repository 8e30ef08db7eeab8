"""The lab's one error type: a mistake in what the user asked for, said in one line."""

from __future__ import annotations

from ..errors import InputError


class LabError(InputError):
    """A lab request that cannot run: an unknown or unfit loss, a missing column, unusable data.

    The message is one line that says what is wrong and what to do; the ``lab`` command prints it on
    stderr and exits with status 2.
    """


def need(module: str, purpose: str):
    """Import an optional dependency, or raise LabError saying how to install it.

    Parameters
    ----------
    module : str
        The module to import (``"sklearn"``, ``"torch"``, ...).
    purpose : str
        What the lab needs it for, in words.

    Returns
    -------
    module
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"sklearn": "scikit-learn"}.get(module, module)
        raise LabError(
            f"the lab needs {package} for {purpose}: pip install 'losskit[lab]' (or pip install {package})."
        ) from None
