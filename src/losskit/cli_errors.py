"""How the command line reports a user's mistake: one line on stderr and exit status 2.

Shared by every command (``losskit.cli`` and the ``lab`` command). A user's mistake is told from a
bug by its class alone: ``lk.InputError`` (every check of the library raises it: names,
hyperparameters, shapes, dtypes, domains, files, lab requests), a malformed option value
(``CLIError``), or a file that cannot be read or written (``OSError``). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools

import typer
from rich.console import Console
from rich.text import Text

from .errors import InputError

#: Exit status of a user error (the same as a usage error that the option parser catches).
USER_ERROR = 2


class CLIError(InputError):
    """A mistake in the command line itself (a malformed option value), reported like a library error."""


def is_user_error(error: BaseException) -> bool:
    """Whether an exception is the user's mistake, to report in one line, rather than a bug."""
    return isinstance(error, (InputError, OSError))


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
        except (InputError, OSError) as error:
            if isinstance(error, OSError) and error.strerror:
                where = f"{error.filename}: " if error.filename else ""
                raise fail(f"{where}{error.strerror}") from None
            raise fail(str(error) or type(error).__name__) from None

    return wrapper
