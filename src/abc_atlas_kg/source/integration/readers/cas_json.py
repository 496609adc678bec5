"""Cell Annotation Schema JSON (`CS20250428.json`): a taxonomy's curation as one JSON document.

The `annotations` list holds one object per (cell set, label set); its fields are the TDT table's columns, with
lists where the table has `|`-joined text. A malformed file is an InputError naming the file, the annotation
(its 1-based position, as `row`) and the field (as `column`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ....errors import InputError, Problem
from .curation import Curation, CurationTable, cell_type, dois, markers, text

MAX_BYTES = 64 << 20  # a CAS file of a whole taxonomy is a few MB


def read(path: Path) -> CurationTable:
    where = str(path)
    document = _load(path)
    annotations = document.get("annotations") if isinstance(document, dict) else None
    if not isinstance(annotations, list):
        raise InputError([Problem(where, "has no 'annotations' list: not a Cell Annotation Schema file")])
    problems: list[Problem] = []
    found = []
    for position, annotation in enumerate(annotations, start=1):
        curation = _curation(where, position, annotation, problems)
        if curation is not None:
            found.append(curation)
    if problems:
        raise InputError(problems)
    return CurationTable(path, tuple(found))


def _load(path: Path) -> Any:
    if path.stat().st_size > MAX_BYTES:
        raise InputError([Problem(str(path), f"is larger than {MAX_BYTES >> 20} MiB: not a CAS file")])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InputError([Problem(str(path), f"is not UTF-8 text ({err.reason})")]) from None
    except json.JSONDecodeError as err:
        raise InputError([Problem(str(path), f"is not valid JSON: {err.msg}", row=err.lineno)]) from None


def _curation(where: str, position: int, annotation: Any, problems: list[Problem]) -> Curation | None:
    if not isinstance(annotation, dict):
        problems.append(Problem(where, "annotation is not an object", position, "annotations", repr(annotation)[:60]))
        return None
    accession = _field(annotation, "cell_set_accession", where, position, problems)
    if accession is None:
        problems.append(Problem(where, "annotation names no cell set", position, "cell_set_accession"))
        return None
    term = cell_type(_field(annotation, "cell_ontology_term_id", where, position, problems), where, position,
                     "cell_ontology_term_id", problems)  # fmt: skip
    return Curation(
        row=position,
        accession=accession,
        name=_field(annotation, "cell_label", where, position, problems),
        labelset=_field(annotation, "labelset", where, position, problems),
        cell_type=term,
        cell_type_label=_field(annotation, "cell_ontology_term", where, position, problems),
        rationale=_field(annotation, "rationale", where, position, problems),
        dois=dois(_joined(annotation, "rationale_dois", where, position, problems)),
        markers=markers(_joined(annotation, "marker_gene_evidence", where, position, problems)),
    )


def _field(annotation: dict[str, Any], key: str, where: str, position: int, problems: list[Problem]) -> str | None:
    value = annotation.get(key)
    if value is not None and not isinstance(value, str):
        problems.append(Problem(where, "expected a string or null", position, key, repr(value)[:60]))
        return None
    return text(value)


def _joined(annotation: dict[str, Any], key: str, where: str, position: int, problems: list[Problem]) -> str | None:
    """A list-of-strings field (or a string) as one `|`-joined text, the TDT's form."""
    value = annotation.get(key)
    if isinstance(value, list):
        if not all(item is None or isinstance(item, str) for item in value):
            problems.append(Problem(where, "expected a list of strings", position, key, repr(value)[:60]))
            return None
        return "|".join(item for item in value if item) or None  # curators leave [null] for an empty list
    return _field(annotation, key, where, position, problems)
