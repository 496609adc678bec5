"""The integration sources abc-kg knows, declared as data in `sources.toml` and checked when it is loaded.

A source is one public file (a CL component, a curation table, an atlas ontology, a gene lookup) that a layer
(cell types, anatomy, genes) joins to the ABC tables. What the file is — where it is published, pinned to a commit
or version, its size and MD5, licence and version, which taxonomies it serves and which reader reads it — is data
here, so that provenance can be recorded on every fact derived from it and a new source needs no code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import cache
from importlib.resources import files
from typing import Any

from . import RegistryError, taxonomies
from .plugins import LAYERS, READERS

KNOWN_LAYERS = ("celltypes", "anatomy", "genes")  # the layers a source may serve (implemented in plugins.LAYERS)
_MD5 = re.compile(r"[0-9a-f]{32}")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


@dataclass(frozen=True)
class Source:
    """One integration source file as published."""

    id: str
    title: str
    layers: tuple[str, ...]
    reader: str
    taxonomies: tuple[str, ...]
    path: str  # where it sits in a mirror laid out like the shared samples (also its file name)
    url: str  # the public URL, pinned to a commit or version (an archive when `member` is set)
    md5: str  # of the file the reader reads
    size: int
    version: str
    licence: str
    archive_md5: str | None = None
    archive_size: int | None = None
    member: str | None = None  # the file's path inside the archive at `url`

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


KEYS = tuple(f.name for f in fields(Source))
REQUIRED = tuple(f.name for f in fields(Source) if f.default is MISSING)


def _fail(index: int, key: str, message: str) -> RegistryError:
    return RegistryError(f"sources.toml: source #{index + 1}: {key}: {message}")


def _source(index: int, entry: Any) -> Source:
    if not isinstance(entry, dict):
        raise _fail(index, "[[source]]", f"expected a table, got {entry!r}")
    for key in entry:
        if key not in KEYS:
            raise _fail(index, key, f"unknown key (known: {', '.join(KEYS)})")
    for key in REQUIRED:
        if key not in entry:
            raise _fail(index, key, "is required")
    _check_types(index, entry)
    _check_values(index, entry)
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
    return Source(**values)


def _check_types(index: int, entry: dict[str, Any]) -> None:
    for key in ("id", "title", "reader", "path", "url", "md5", "version", "licence", "archive_md5", "member"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key]):
            raise _fail(index, key, f"expected a non-empty string, got {entry[key]!r}")
    for key in ("layers", "taxonomies"):
        if not isinstance(entry[key], list) or not entry[key] or not all(isinstance(v, str) for v in entry[key]):
            raise _fail(index, key, f"expected a non-empty list of strings, got {entry[key]!r}")
    for key in ("size", "archive_size"):
        if key in entry and (not isinstance(entry[key], int) or entry[key] <= 0):
            raise _fail(index, key, f"expected a positive integer, got {entry[key]!r}")


def _check_values(index: int, entry: dict[str, Any]) -> None:
    if not _ID.fullmatch(entry["id"]):
        raise _fail(index, "id", f"{entry['id']!r} is not a lower-case name (letters, digits, '-')")
    if not _PATH.fullmatch(entry["path"]) or ".." in entry["path"].split("/"):
        raise _fail(index, "path", f"{entry['path']!r} is not a relative path of plain names")
    if not entry["url"].startswith(("https://", "http://")):
        raise _fail(index, "url", f"{entry['url']!r} is not an http(s) URL")
    for key in ("md5", "archive_md5"):
        if key in entry and not _MD5.fullmatch(entry[key]):
            raise _fail(index, key, f"{entry[key]!r} is not an MD5 (32 lower-case hex digits)")
    if ("member" in entry) != ("archive_md5" in entry) or ("member" in entry) != ("archive_size" in entry):
        raise _fail(index, "member", "member, archive_md5 and archive_size go together")
    if entry["reader"] not in READERS:
        raise _fail(index, "reader", f"unknown value {entry['reader']!r} (known: {', '.join(sorted(READERS))})")
    for layer in entry["layers"]:
        if layer not in KNOWN_LAYERS:
            raise _fail(index, "layers", f"unknown value {layer!r} (known: {', '.join(KNOWN_LAYERS)})")
    known = taxonomies()
    for taxonomy in entry["taxonomies"]:
        if taxonomy not in known:
            raise _fail(index, "taxonomies", f"unknown taxonomy {taxonomy!r} (known: {', '.join(sorted(known))})")


def parse(text: str) -> dict[str, Source]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RegistryError(f"sources.toml: not valid TOML: {err}") from None
    unknown = set(raw) - {"source"}
    if unknown:
        raise RegistryError(f"sources.toml: unknown top-level key(s) {', '.join(sorted(unknown))} (known: source)")
    parsed: dict[str, Source] = {}
    for index, entry in enumerate(raw.get("source", [])):
        source = _source(index, entry)
        if source.id in parsed:
            raise _fail(index, "id", f"{source.id!r} is declared twice")
        parsed[source.id] = source
    return parsed


@cache
def sources() -> dict[str, Source]:
    """Every declared source, by id."""
    return parse(files("abc_atlas_kg.registry").joinpath("sources.toml").read_text(encoding="utf-8"))


def for_taxonomy(taxonomy_id: str, layer: str | None = None) -> list[Source]:
    """The sources that serve a taxonomy (in one layer, or any), in declaration order."""
    return [s for s in sources().values() if taxonomy_id in s.taxonomies and (layer is None or layer in s.layers)]


def implemented_layers() -> tuple[str, ...]:
    """The layers abc-kg can build now, in pipeline order."""
    return tuple(name for name in KNOWN_LAYERS if name in LAYERS)
