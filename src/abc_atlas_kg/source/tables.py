"""Source stage: read one taxonomy release's ABC tables from a directory laid out like the ABC bucket.

The layout (which files, where) is `layout.py`.
Tables are read with pandas, as the ABC Atlas' own access library does, with every cell as text and NA detection
off (the neurotransmitter terms named "NA" and "None" are data); an empty cell means missing.

Before pandas sees a file, one streaming pass with the csv module checks it: UTF-8, balanced quotes and the same
number of fields on every row. pandas reports such faults by byte offset or not at all (a short row is padded
silently); the pass names the spreadsheet row instead, and holds only one record in memory while it does.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InputError, Problem, UsageError
from .layout import (
    KNOWN_TABLES,
    KNOWN_VIEWS,
    MEMBERSHIP,
    release_dir,
    table_path,
)

# The columns the model reads from the large tables; the others are checked by the scan but never kept in memory.
USED_COLUMNS: dict[str, tuple[str, ...]] = {
    MEMBERSHIP: (
        "cluster_alias",
        "cluster_annotation_term_label",
        "cluster_annotation_term_set_label",
        "number_of_cells",
    ),
}
# Free text is kept exactly as published (a WMB description ends with a space); identifiers and numbers are stripped.
FREE_TEXT = frozenset({"name", "description", "cluster_name", "abbreviation_meaning", "parent_term_name"})
MAX_PROBLEMS_PER_FILE = 100  # a file broken on every row says so without holding a million messages


@dataclass(frozen=True)
class SourceFile:
    """A file the export was made from, for provenance: where it sits in the bucket and its checksum."""

    relative_path: str  # bucket-relative, e.g. metadata/WMB-taxonomy/20230830/cluster.csv
    md5: str
    size: int
    url: str | None = None  # where the bytes were downloaded from, when abc-kg fetched them
    manifest_version: str | None = None  # the ABC release manifest that resolved the file, if one did
    verified: bool = False  # the bytes matched that manifest's MD5 and size: only then is the bucket URL named


class Origin(NamedTuple):
    """Where a file in a local copy of the bucket came from; the fetcher records it, the reader attaches it."""

    url: str
    manifest_version: str | None
    verified: bool = False  # the bytes matched the manifest's size and MD5


@dataclass
class Table:
    """One CSV file: its full header and the columns the model reads, as text.

    Rows are produced one at a time by `numbered()`; row `i` (0-based) is spreadsheet row `i + 2` (the header is
    row 1; a quoted field spanning lines is one row, as a spreadsheet shows it).
    """

    source: SourceFile
    columns: tuple[str, ...]
    data: dict[str, Sequence[Any]] = field(default_factory=dict)
    length: int = 0

    @property
    def path(self) -> str:
        return self.source.relative_path

    def __len__(self) -> int:
        return self.length

    def numbered(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {column: value}) for every non-blank row; identifiers stripped, free text verbatim."""
        names = list(self.data)
        strip = [name not in FREE_TEXT for name in names]
        for index, values in enumerate(zip(*(self.data[n] for n in names), strict=True)):
            if not any(values):
                continue  # blank line, e.g. one left by a spreadsheet
            row = {n: (v.strip() if s else v) for n, v, s in zip(names, values, strip, strict=True)}
            yield index + 2, row

    @property
    def rows(self) -> list[dict[str, str]]:
        return [row for _, row in self.numbered()]


@dataclass
class ReleaseTables:
    """The tables of one release of one ABC directory, keyed by file tag."""

    directory: str
    release: str
    tables: dict[str, Table] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)  # tag -> bucket-relative path where it was looked for

    def get(self, tag: str) -> Table | None:
        return self.tables.get(tag)

    def where(self, tag: str) -> str:
        """The bucket-relative path of a table, present or not, for messages."""
        return self.locations.get(tag) or table_path(self.directory, self.release, tag)

    @property
    def sources(self) -> list[SourceFile]:
        return sorted((t.source for t in self.tables.values()), key=lambda s: s.relative_path)


def read_release(
    root: Path,
    directory: str,
    release: str,
    elsewhere: Mapping[str, tuple[str, str]] | None = None,
    origins: Mapping[str, Origin] | None = None,
) -> ReleaseTables:
    """Read the known tables of a release; absent files are simply absent (the model decides what is required).

    `elsewhere` maps a file tag to the (directory, directory version) it is published in when that is not the
    taxonomy's own directory: the aging clusters' cluster.csv sits in Zeng-Aging-Mouse-10Xv3, at that directory's
    own version (20250131 while the taxonomy's is 20241130). `origins` maps bucket-relative paths to where a
    fetched file came from, so provenance can name its URL and manifest version; files without an entry are
    described by path, MD5 and size only.
    """
    folder = release_dir(root, directory, release)
    if not folder.is_dir():
        raise UsageError(f"no release directory {folder}")
    found = ReleaseTables(directory, release)
    problems: list[Problem] = []
    moved = dict(elsewhere or {})
    candidates: list[tuple[str, str]] = []
    for tag in KNOWN_TABLES:
        where, version = moved.get(tag, (directory, release))
        candidates.append((tag, table_path(where, version, tag)))
    candidates += [(tag, table_path(directory, release, tag)) for tag in KNOWN_VIEWS]
    for tag, relative in candidates:
        path = root / relative
        if not path.is_file() and tag in KNOWN_VIEWS:  # a partial copy of a view, e.g. `<tag>.sample.csv`
            path = next(iter(sorted(path.parent.glob(f"{tag}.*.csv"))), path)
            relative = path.relative_to(root).as_posix()
        found.locations[tag] = relative
        if not path.is_file():
            continue
        table = read_csv(path, relative, problems, USED_COLUMNS.get(tag))
        if table is None:
            continue
        origin = (origins or {}).get(relative)
        if origin is not None:
            table.source = replace(
                table.source, url=origin.url, manifest_version=origin.manifest_version, verified=origin.verified
            )
        found.tables[tag] = table
    if problems:
        raise InputError(problems)
    return found


class _UndecodableLine(Exception):
    def __init__(self, byte: int):
        self.byte = byte


class _Scan:
    """One streaming pass over a CSV file: MD5, size, header, row count and every structural fault by row."""

    def __init__(self, path: Path, relative_path: str):
        self.path, self.relative_path = path, relative_path
        self.md5 = hashlib.md5()
        self.size = 0
        self.header: list[str] = []
        self.rows = 0  # records after the header, blank ones included
        self.problems: list[Problem] = []

    def _lines(self, handle: Any) -> Iterator[str]:
        first = True
        for raw in handle:
            self.md5.update(raw)
            self.size += len(raw)
            if first and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _UndecodableLine(raw[err.start]) from None

    def problem(self, message: str, row: int | None = None) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_FILE:
            self.problems.append(Problem(self.relative_path, message, row=row))
        elif len(self.problems) == MAX_PROBLEMS_PER_FILE:
            self.problems.append(Problem(self.relative_path, f"more faults after these {MAX_PROBLEMS_PER_FILE}"))

    def run(self) -> None:
        with self.path.open("rb") as handle:
            try:
                self._records(csv.reader(self._lines(handle), strict=True))
            except _UndecodableLine as err:
                self.problem(
                    f"is not UTF-8 text (undecodable byte 0x{err.byte:02x} in this row); save it as UTF-8",
                    row=self.rows + 2 if self.header else 1,
                )
            except csv.Error as err:
                row = self.rows + 2 if self.header else 1
                text = str(err)
                if "field larger than field limit" in text or "unexpected end of data" in text:
                    text = "a quoted field that starts in this row is never closed"
                self.problem(f"is not valid CSV: {text}", row=row)

    def _records(self, records: Iterator[list[str]]) -> None:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            self.problem("is empty: expected a header row")
            return
        self.header = [cell.strip() for cell in header]
        seen: set[str] = set()
        for column in self.header:
            if column in seen:
                self.problems.append(
                    Problem(self.relative_path, "column appears twice in the header", row=1, column=column)
                )
            seen.add(column)
        width = len(self.header)
        for record in records:
            self.rows += 1
            if record and len(record) != width and any(record):
                self.problem(f"has {len(record)} fields but the header has {width}", row=self.rows + 1)


def read_csv(
    path: Path, relative_path: str, problems: list[Problem], used: Sequence[str] | None = None
) -> Table | None:
    """Check one CSV strictly, then read it (only the `used` columns, when given) with pandas as text."""
    scan = _Scan(path, relative_path)
    scan.run()
    if scan.problems:
        problems.extend(scan.problems)
        return None
    source = SourceFile(relative_path, scan.md5.hexdigest(), scan.size)
    header = tuple(scan.header)
    wanted = [c for c in header if used is None or c in used]
    if not wanted:
        return Table(source, header, {}, scan.rows)
    import pandas as pd  # heavy: imported only when a table is read

    try:
        frame = pd.read_csv(
            path,
            header=0,
            names=list(header),
            usecols=wanted,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as err:  # the scan passed, so this is unexpected: say what pandas said
        problems.append(Problem(relative_path, f"could not be read as CSV: {err}"))
        return None
    data = {column: frame[column].to_numpy(dtype=object) for column in wanted}
    if len(frame) != scan.rows:
        problems.append(Problem(relative_path, f"pandas read {len(frame)} rows where the scan found {scan.rows}"))
        return None
    return Table(source, header, data, len(frame))
