"""How the command line reports a user's mistake: one line on stderr and exit status 2.

Shared by every command (``losskit.cli`` and the ``lab`` command). A user's mistake is told from a
bug by its class alone: ``lk.InputError`` (every check of the library raises it: names,
hyperparameters, shapes, dtypes, domains, files, lab requests), a malformed option value
(``CLIError``), or a file that cannot be read or written (``OSError``). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import functools
import re
import sys

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from typer.exceptions import Abort

try:  # Typer carries its own copy of click from 0.2x on
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError

from . import specs
from .errors import InputError

#: Exit status of a user error (the same as a usage error that the option parser catches).
USER_ERROR = 2


class CLIError(InputError):
    """A mistake in the command line itself (a malformed option value), reported like a library error."""


def is_user_error(error: BaseException) -> bool:
    """Whether an exception is the user's mistake, to report in one line, rather than a bug."""
    return isinstance(error, (InputError, OSError))


#: Names of library functions that start their messages ("get: unknown loss ..."): a command line user
#: never called them. A loss's name at the start of a message stays: it says which loss refused.
API_PREFIXES = re.compile(r"^(get|list_losses|plot_losses|plot_outlier_influence|save|recommend|explain|check_pairing|curve): ")
#: Hints written for Python users, and what the command line says instead.
API_HINTS = (("lk.list_losses() (or: losskit list) names them all", "losskit list names them all"),)


def cli_words(message: str) -> str:
    """A library message as the command line says it: one line, without the API's prefixes and hints."""
    line = API_PREFIXES.sub("", " ".join(str(message).split()))
    for api, cli in API_HINTS:
        line = line.replace(api, cli)
    return line


def fail(message: str) -> typer.Exit:
    """Print ``error: <message>`` as one line on stderr and return the exit to raise."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(Text.assemble(("error: ", "bold red"), cli_words(message)))
    return typer.Exit(USER_ERROR)


def parse_params(items: list[str] | None) -> dict[str, list]:
    """The values of ``--param`` options, each read as the loss specs read theirs (``losskit.specs.value``).

    >>> parse_params(["delta=0.5,1", "label_smoothing=0.1"])
    {'delta': [0.5, 1], 'label_smoothing': [0.1]}
    """
    params: dict[str, list] = {}
    for item in items or ():
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise CLIError(f"--param {item!r}: expected NAME=VALUE or NAME=V1,V2,... (for example --param delta=0.5).")
        if key in params:
            raise CLIError(f"--param {key} is given twice; give its values once, separated by commas.")
        params[key] = [specs.value("", v) for v in values.split(",")]
    return params


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


def _plain_type(param):
    """What a parameter's help shows after its name: nothing for a flag, else a word (NUMBER, TEXT, PATH, ...)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar:
        return param.metavar
    descriptor = param.type_descriptor
    word = "PATH" if descriptor.is_path else {"int": "INTEGER", "float": "NUMBER"}.get(param._bare_type(
        descriptor.annotation).removeprefix("list[").removesuffix("]"), "TEXT")  # fmt: skip
    return word + ("..." if descriptor.is_list and param.param_type_name == "argument" else "")


def _without_types(param):
    """``param`` with its help showing a word for its value (or nothing for a flag), never a Python type."""
    if param is not None:
        param.display_type_rich = lambda ctx: _plain_type(param)
        param._get_number_range_help_str = lambda: ""
    return param


class CommandGroup(TyperGroup):
    """The command group: usage errors in one line (as every other error), and help without Python types."""

    def _plain_help(self) -> None:
        if getattr(self, "_help_is_plain", False):
            return
        self._help_is_plain = True
        for command in [self, *self.commands.values()]:
            for param in command.params:
                _without_types(param)
            make_help = command.get_help_option
            command.get_help_option = lambda ctx, make_help=make_help: _without_types(make_help(ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        self._plain_help()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except UsageError as error:  # an unknown command or option, a malformed value
            where = error.ctx.command_path if error.ctx is not None else "losskit"
            message = error.format_message()
            fail(f"{message}{'' if message.endswith(('.', '?')) else '.'} See {where} --help.")
            sys.exit(USER_ERROR)
        except Abort:
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
