"""Files that ship with abc-kg: the ontology, the SHACL shapes and the bundled sample tables.

An installed wheel carries `ontology/` and `shapes/` inside the package; a source checkout (editable install,
tests) keeps them at the repository's top level. Both are looked for, the package first.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    for candidate in (PACKAGE / name, PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"abc-kg is installed without its {name}/ folder")


def ontology_dir() -> Path:
    return _shipped("ontology")


def shapes_dir() -> Path:
    return _shipped("shapes")


def sample_root() -> Path:
    """The bundled sample: real WMB CCN20230722 tables laid out like the ABC bucket."""
    return PACKAGE / "data" / "abc-bucket"
