"""The `abc-kg` group: global flags, error-to-exit-code handling, and the table of commands, imported on use.

Each command lives in its own module of this package and is named in `COMMANDS` as `"module:attribute"` (rdflib's
plugin habit): `abc-kg --help` lists them without importing any, and running one imports only its module. A new
command is a new module plus one line here.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import AbcKgError, ExitCode

if TYPE_CHECKING:
    pass


def _state() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().obj if ctx else None) or {}


def _quiet() -> bool:
    return bool(_state().get("quiet"))


def say(line: str) -> None:
    """A status line for people: stderr, and nothing at all with --quiet."""
    if not _quiet():
        click.echo(line, err=True)


# command name → "module:attribute" inside this package; help texts come from the command when it is listed.
COMMANDS = {
    "export": "export:export",
    "fetch": "export:fetch_command",
    "releases": "export:releases",
    "validate": "validate:validate_files",
    "taxonomies": "taxonomies:taxonomies",
    "load": "load:load_command",
    "query": "query:query_command",
    "serve": "serve:serve",
    "info": "info:info",
}


class _Group(click.Group):
    """Turns abc-kg's errors and Ctrl-C into one message and a documented exit code; -v adds the traceback.

    Commands are loaded lazily from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            import importlib

            module_name, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(f"{__package__}.{module_name}"), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AbcKgError as err:
            self._fail(ctx, f"error: {err}", err.exit_code)
        except KeyboardInterrupt:
            self._fail(ctx, "interrupted", ExitCode.INTERRUPTED)
        return None  # pragma: no cover - _fail exits

    @staticmethod
    def _fail(ctx: click.Context, message: str, code: ExitCode) -> None:
        if (ctx.obj or {}).get("verbose") and not isinstance(sys.exc_info()[1], _Reported):
            traceback.print_exc(file=sys.stderr)
        click.echo(message, err=True)
        ctx.exit(int(code))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="abc-kg")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage and show tracebacks on errors (same exit codes).")
@click.option("-q", "--quiet", is_flag=True, help="No progress, summaries or status lines: only data and errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Export Allen Brain Cell Atlas taxonomies as SHACL-validated linked data.

    Shell completion (taxonomy and query names too): eval "$(_ABC_KG_COMPLETE=bash_source abc-kg)"
    """
    ctx.obj = {"verbose": verbose, "quiet": quiet and not verbose}
    level = logging.INFO if verbose else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="abc-kg: %(message)s", stream=sys.stderr, force=True)


class _Reported(AbcKgError):
    """An error whose details were already printed; carries the exit code and a closing line."""

    def __init__(self, code: ExitCode, message: str):
        self.exit_code = code
        super().__init__(message)
