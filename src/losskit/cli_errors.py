"""How the command line reports a user's mistake: one line on stderr and exit status 2.

Shared by every command (``losskit.cli`` and the ``lab`` command). A ValueError or TypeError raised
by one of the library's checks is the user's mistake; the same error raised by a command module
itself, or by a dependency, is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from .data import DataError

#: Exit status of a user error (the same as a usage error that the option parser catches).
USER_ERROR = 2

#: The library's own modules: a ValueError or TypeError raised there is one of its checks ...
_LIBRARY = Path(__file__).resolve().parent
#: ... except in the command modules, where it would be a bug of the command itself.
_COMMANDS = {_LIBRARY / "cli.py", _LIBRARY / "lab" / "command.py"}


class CLIError(Exception):
    """A mistake in the command line itself (a malformed option value), reported like a library error."""


def is_user_error(error: BaseException) -> bool:
    """Whether an exception is the user's mistake, to report in one line, rather than a bug.

    - CLIError: a malformed option value; DataError: a missing, malformed or column-less file;
      OSError: a file that cannot be read or written.
    - ValueError or TypeError raised by the library itself (a check of names, hyperparameters, shapes,
      dtypes, domains, lab requests): where the innermost frame of the traceback is a losskit module
      other than a command module.
    """
    if isinstance(error, (CLIError, DataError, OSError)):
        return True
    if not isinstance(error, (ValueError, TypeError)) or error.__traceback__ is None:
        return False
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = Path(tb.tb_frame.f_code.co_filename).resolve()
    return where.is_relative_to(_LIBRARY) and where not in _COMMANDS


def fail(message: str) -> typer.Exit:
    """Print ``error: <message>`` as one line on stderr and return the exit to raise."""
    line = " ".join(str(message).split())  # one line, whatever the message's layout
    Console(stderr=True, soft_wrap=True, highlight=False).print(Text.assemble(("error: ", "bold red"), line))
    return typer.Exit(USER_ERROR)


def user_errors(command):
    """Decorator for a command: a user error becomes one line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (CLIError, ValueError, TypeError, OSError) as error:
            if not is_user_error(error):
                raise
            if isinstance(error, OSError) and error.strerror:
                where = f"{error.filename}: " if error.filename else ""
                raise fail(f"{where}{error.strerror}") from None
            raise fail(str(error) or type(error).__name__) from None

    return wrapper
