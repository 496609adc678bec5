"""MapMyCells2CL's `mapping.json`: for each WMB CCN20230722 label, its PCL/CL classes as PCL states them.

    {"version": "2025-07-07", "source": "pcl.owl", "generated": "…",
     "exact":   {label: {"id": "PCL:…", "label": …, "ontology": "PCL"}},              # the class it is exemplar of
     "broad":   {label: [{"id": "CL:…", "label": …, "ontology": "CL", "via": ["PCL:…"]}]},  # CL classes above it
     "best_cl": {label: {"id": "CL:…", "label": …, "ic": 7.52}}}                     # the most specific CL class

A malformed entry is an InputError naming the file, and as `column` the JSON path of the value
(`exact/CS20230722_CLAS_28/id`); JSON has no rows, so `row` is the line of a syntax error only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ....errors import InputError, Problem
from .curation import CELL_TYPE_ID

MAX_BYTES = 64 << 20


class PclClass(NamedTuple):  # a tuple: 25,000 of them are made per read, and tuples are made fast
    id: str  # CL:nnnnnnn or PCL:nnnnnnn
    label: str | None
    # broad links: what the link goes through, the PCL classes between the label's class and this one, or the
    # parent cell set (a label) whose class it inherits when the label has no class of its own
    via: tuple[str, ...] = ()
    information_content: float | None = None  # best_cl links


class PclEntry(NamedTuple):
    exact: PclClass | None
    broad: tuple[PclClass, ...]
    best: PclClass | None


@dataclass(frozen=True)
class PclMapping:
    path: Path
    version: str | None  # the PCL release it was made from
    generated: str | None
    entries: dict[str, PclEntry]  # by cell-set label

    def __len__(self) -> int:
        return len(self.entries)


def read(path: Path) -> PclMapping:
    where = str(path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError([Problem(where, f"is larger than {MAX_BYTES >> 20} MiB: not a MapMyCells2CL mapping")])
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InputError([Problem(where, f"is not UTF-8 text ({err.reason})")]) from None
    except json.JSONDecodeError as err:
        raise InputError([Problem(where, f"is not valid JSON: {err.msg}", row=err.lineno)]) from None
    if not isinstance(document, dict) or not isinstance(document.get("exact"), dict):
        raise InputError([Problem(where, "has no 'exact' object: not a MapMyCells2CL mapping")])
    problems: list[Problem] = []
    exact = _section(document, "exact", where, problems, one=True)
    broad = _section(document, "broad", where, problems, one=False)
    best = _section(document, "best_cl", where, problems, one=True)
    if problems:
        raise InputError(problems)
    labels = sorted(exact.keys() | broad.keys() | best.keys())
    entries = {
        label: PclEntry(
            exact[label][0] if label in exact else None,
            tuple(broad.get(label, ())),
            best[label][0] if label in best else None,
        )
        for label in labels
    }
    return PclMapping(path, _string(document.get("version")), _string(document.get("generated")), entries)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _section(
    document: dict[str, Any], key: str, where: str, problems: list[Problem], one: bool
) -> dict[str, list[PclClass]]:
    section = document.get(key, {})
    if not isinstance(section, dict):
        problems.append(Problem(where, "expected an object of labels", column=key, value=repr(section)[:60]))
        return {}
    found: dict[str, list[PclClass]] = {}
    for label, value in section.items():
        items = [value] if one else value
        if not isinstance(items, list):
            problems.append(
                Problem(where, "expected a list of classes", column=f"{key}/{label}", value=repr(value)[:60])
            )
            continue
        classes = [_class(item, f"{key}/{label}", where, problems) for item in items]
        found[label] = [c for c in classes if c is not None]
    return found


def _class(item: Any, path: str, where: str, problems: list[Problem]) -> PclClass | None:
    simple = type(item) is dict and type(item.get("id")) is str and not item.get("via") and "ic" not in item
    if simple and CELL_TYPE_ID.fullmatch(item["id"]):  # the common case, checked in one go
        label = item.get("label")
        return PclClass(item["id"], label if type(label) is str and label else None)
    if not isinstance(item, dict):
        problems.append(Problem(where, "expected a class object", column=path, value=repr(item)[:60]))
        return None
    identifier = item.get("id")
    if not isinstance(identifier, str) or not CELL_TYPE_ID.fullmatch(identifier):
        problems.append(Problem(where, "is not a CL or PCL id", column=f"{path}/id", value=repr(identifier)[:60]))
        return None
    via = _via(item.get("via", []), path, where, problems)
    ic = _ic(item.get("ic"), path, where, problems)
    return PclClass(identifier, _string(item.get("label")), via, ic)


def _via(via: Any, path: str, where: str, problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(via, list) or not all(isinstance(v, str) and v.strip() for v in via):
        problems.append(Problem(where, "expected a list of ids", column=f"{path}/via", value=repr(via)[:60]))
        return ()
    return tuple(via)


def _ic(ic: Any, path: str, where: str, problems: list[Problem]) -> float | None:
    if ic is not None and (isinstance(ic, bool) or not isinstance(ic, int | float)):
        problems.append(Problem(where, "expected a number", column=f"{path}/ic", value=repr(ic)[:60]))
        return None
    return None if ic is None else float(ic)
