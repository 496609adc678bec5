"""A strict reader of tab-separated tables (BICAN TDT curation tables, WHBO and MBAO ROBOT templates).

Every row keeps its file row number so that a bad value can be reported by file, row and column. ROBOT templates
carry a second header row of template strings (`ID`, `A rdfs:label`, ...): `skip_rows` drops such rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ....errors import InputError, Problem

MAX_FIELD = 1 << 20  # one cell over 1 MiB is not a curation table


@dataclass(frozen=True)
class TsvTable:
    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (file row number, {column: value}); the header is row 1

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def problem(
        self, message: str, row: int | None = None, column: str | None = None, value: str | None = None
    ) -> Problem:
        return Problem(str(self.path), message, row=row, column=column, value=value)


def read(
    path: Path, skip_rows: int = 0, required: tuple[str, ...] = (), keep: tuple[str, ...] | None = None
) -> TsvTable:
    """All rows of a TSV as text (cells stripped of surrounding space); raises InputError on a malformed file.

    `keep` names the columns to keep (those present; default all): a 50-column curation table read for three of
    them is read three times faster. Every row is still checked for its number of fields.
    """
    csv.field_size_limit(MAX_FIELD)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
            columns = _header(path, next(reader, None), required)
            kept = [i for i, c in enumerate(columns) if keep is None or c in keep]
            names = tuple(columns[i] for i in kept)
            rows = [
                (number, {name: record[i].strip() for name, i in zip(names, kept, strict=True)})
                for number, record in _records(path, reader, len(columns), skip_rows)
            ]
    except UnicodeDecodeError as err:
        raise InputError([Problem(str(path), f"is not UTF-8 text ({err.reason})")]) from None
    except csv.Error as err:
        raise InputError([Problem(str(path), f"is not a valid TSV file: {err}")]) from None
    return TsvTable(path, names, tuple(rows))


def _header(path: Path, header: list[str] | None, required: tuple[str, ...]) -> tuple[str, ...]:
    if not header:
        raise InputError([Problem(str(path), "is empty: expected a header row")])
    columns = tuple(cell.strip() for cell in header)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError([Problem(str(path), f"lacks the column(s) {', '.join(missing)}", row=1)])
    return columns


def _records(path: Path, reader: Iterator[list[str]], width: int, skip_rows: int) -> Iterator[tuple[int, list[str]]]:
    """(file row number, cells padded to the header's width) of every non-blank data row after `skip_rows`."""
    for number, record in enumerate(reader, start=2):
        if number - 2 < skip_rows or not "".join(record).strip():
            continue
        if len(record) > width:
            raise InputError([Problem(str(path), f"has {len(record)} fields but the header has {width}", row=number)])
        yield number, record + [""] * (width - len(record))
