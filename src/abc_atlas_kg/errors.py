"""Errors that reach the user, each with its own exit code.

Every failure the CLI reports is one of these: they carry enough context (file, row, column, value)
for a curator to fix the input without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    INVALID_INPUT = 1
    USAGE = 2
    NOT_CONFORMING = 3
    FETCH_FAILED = 4
    STORE_FAILED = 5
    INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report 128 + 2


class AbcKgError(Exception):
    """Base class: a failure with a message meant for the user and an exit code."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows.

    `row` is the 1-based line number in the file as a spreadsheet shows it (the header is row 1).
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{shown}"


class InputError(AbcKgError):
    """The ABC tables are missing, unreadable or inconsistent. Carries every problem found in one pass."""

    MAX_SHOWN = 25

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[: self.MAX_SHOWN])
        more = len(problems) - self.MAX_SHOWN
        tail = f"\n  ... and {more} more problem(s)" if more > 0 else ""
        super().__init__(f"{len(problems)} problem(s) in the input:\n{shown}{tail}")

    def __reduce__(self) -> tuple[type, tuple[list[Problem]]]:
        return (InputError, (self.problems,))  # so that it crosses from a worker process intact


class UsageError(AbcKgError):
    """The command line asks for something that does not exist (unknown taxonomy, release, format)."""

    exit_code = ExitCode.USAGE


class NotConformingError(AbcKgError):
    """The RDF does not conform to the SHACL shapes."""

    exit_code = ExitCode.NOT_CONFORMING


class FetchError(AbcKgError):
    """Downloading from the ABC Atlas bucket failed: unreachable, refused, corrupt, or missing from an offline cache."""

    exit_code = ExitCode.FETCH_FAILED


class StoreError(AbcKgError):
    """A triple store could not be opened, reached, authenticated against, written or queried.

    Messages name the store and what failed; they never contain credentials.
    """

    exit_code = ExitCode.STORE_FAILED


class OutputError(AbcKgError):
    """An output folder cannot be written (read-only, full, locked by another export); the previous files stay."""

    exit_code = ExitCode.INVALID_INPUT


class ExportFailures(AbcKgError):
    """Some taxonomies of an `export --all` failed; the others were written. Exit code: the worst of them.

    `failures` are the outcomes of the failed ones (each with `taxonomy_id` and `error`).
    """

    def __init__(self, failures: Sequence[Any]):
        self.failures = list(failures)
        worst = max(int(f.error.exit_code) for f in self.failures if f.error is not None)
        self.exit_code = ExitCode(worst)
        names = ", ".join(f.taxonomy_id for f in self.failures)
        super().__init__(f"{len(self.failures)} taxonomy export(s) failed: {names}")

    def __reduce__(self) -> tuple[type, tuple[list[Any]]]:
        return (ExportFailures, (self.failures,))
