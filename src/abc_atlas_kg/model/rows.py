"""Reading typed cells row by row, every bad cell recorded as a Problem (file, row, column, value)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import Problem
from ..source.tables import Table

COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def has_columns(table: Table, required: Iterable[str], problems: list[Problem]) -> bool:
    missing = [c for c in required if c not in table.columns]
    for column in missing:
        problems.append(Problem(table.path, "required column is missing", row=1, column=column))
    return not missing


class RowReader:
    """Reads typed values from one row, recording a Problem for each bad cell."""

    def __init__(self, table: Table, number: int, row: dict[str, str], problems: list[Problem]):
        self.table, self.number, self.row, self.problems = table, number, row, problems

    def problem(self, column: str | None, message: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.table.path, message, row=self.number, column=column, value=value))

    def text(self, column: str) -> str | None:
        value = self.row.get(column, "")
        return value or None

    def required(self, column: str) -> str:
        value = self.row.get(column, "")
        if not value:
            self.problem(column, "is empty; a value is required")
        return value

    def count(self, column: str) -> int | None:
        value = self.row.get(column, "")
        if not value:
            return None
        if value.isascii() and value.isdigit():
            return int(value)
        self.problem(column, "expected a non-negative integer", value)
        return None

    def colour(self, column: str) -> str | None:
        value = self.row.get(column, "")
        if not value:
            return None
        if COLOUR.fullmatch(value):
            return value
        self.problem(column, "expected a colour #RRGGBB", value)
        return None
