"""One download into the cache: streamed to a temporary file, checked (size and MD5, or the CSV header), renamed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ...errors import FetchError
from ...fileio import md5_file
from ..tables import ABBREVIATION, ABBREVIATION_MAP, CLUSTER, CLUSTER_MAPPING, MEMBERSHIP, PIVOTED, TERM, TERM_SET
from .http import Client, TooLarge, redact
from .manifests import Listed
from .settings import Settings

MARGIN = 1 << 16  # bytes read past a file's declared size before giving up: enough to say by how much it is off
# Columns a table must have when no manifest checksums it: an HTML error page served with 200 is not a table.
EXPECTED_COLUMNS = {
    TERM_SET: {"label", "name"},
    TERM: {"label", "name", "cluster_annotation_term_set_label"},
    CLUSTER: {"cluster_alias"},
    MEMBERSHIP: {"cluster_alias", "cluster_annotation_term_set_label"},
    CLUSTER_MAPPING: {"cluster_alias"},
    ABBREVIATION: {"abbreviation_term"},
    ABBREVIATION_MAP: {"abbreviation_term", "cluster_annotation_term_label"},
    PIVOTED: {"cluster_alias"},
}


def header_problem(path: Path, tag: str) -> str | None:
    """Why a file cannot be the table `tag` (no manifest vouches for it), or None if its header is as expected."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if b"\0" in head:
        return "it contains NUL bytes (binary data, not CSV)"
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip()
    columns = {c.strip().strip('"') for c in first.split(",")}
    missing = EXPECTED_COLUMNS.get(tag, set()) - columns
    if first.startswith("<") or missing or not first:
        shown = "an HTML page" if first.lower().startswith(("<!doctype", "<html")) else repr(first[:60])
        return f"its first line is {shown}, not the header of {tag}.csv (needs {', '.join(sorted(missing))})"
    return None


def download(client: Client, settings: Settings, url: str, target: Path, listed: Listed | None) -> str | None:
    """Download one file to a temporary file, check it, and rename it into place; its MD5, or None on 404."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    digest = hashlib.md5()
    limit = listed.size + MARGIN if listed else settings.max_table_bytes

    def open_sink() -> Callable[[bytes], None]:
        nonlocal digest
        digest = hashlib.md5()
        out = tmp.open("wb")

        def write(block: bytes) -> None:
            out.write(block)
            out.flush()
            digest.update(block)

        open_sink.handles.append(out)  # type: ignore[attr-defined]
        return write

    open_sink.handles = []  # type: ignore[attr-defined]
    try:
        try:
            body = client.fetch(url, limit, settings.deadline, sink=open_sink)
        finally:
            for handle in open_sink.handles:  # type: ignore[attr-defined]
                handle.close()
        if body is None:
            return None
        size, actual = tmp.stat().st_size, digest.hexdigest()
        if listed is not None and size != listed.size:
            raise FetchError(f"{redact(url)}: size mismatch: expected {listed.size} bytes, got {size}; not cached")
        if listed is not None and actual != listed.md5:
            raise FetchError(f"{redact(url)}: MD5 mismatch: expected {listed.md5}, got {actual}; not cached")
        os.replace(tmp, target)
        return actual
    except TooLarge as err:
        raise FetchError(f"{err}; not cached") from None
    finally:
        tmp.unlink(missing_ok=True)


def matches(target: Path, listed: Listed) -> bool:
    return target.is_file() and target.stat().st_size == listed.size and md5_file(target) == listed.md5
