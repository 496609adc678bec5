"""Fetch stage: copy one taxonomy release's tables from the ABC Atlas bucket into a local cache, verified.

Releases come from the bucket, not from code. The bucket's manifests (`releases/<version>/manifest.json`, found by
an S3 ListObjectsV2 listing of `releases/`) say which version each *directory* is at; a taxonomy's release is a
version of its directory. A table that lives in another directory (the aging clusters' `cluster.csv` sits in
Zeng-Aging-Mouse-10Xv3) is resolved through the version the same manifest gives for *that* directory, and every file
is checked against the manifest's size and MD5.

The cache is shaped like the bucket (`<cache>/metadata/<directory>/<version>/...`, manifests under
`<cache>/releases/<version>/manifest.json`), so `source.read_release(cache, ...)` reads it exactly as it reads a
`--source` folder. Downloads stream to a temporary file and are renamed into place only after their check: the
cache never holds a file that failed it. A manifest is validated (size cap, JSON, shape) before it is kept, and
re-validated whenever it is read back. What was verified is recorded in `<release folder>/.abc-kg-fetch.json`;
when every wanted file is recorded and still hashes to its recorded MD5, a fetch makes no request at all (which is
what makes `--offline` work). A damaged record is ignored and the files are checked again.

Every request goes through `http.Client`: bounded bytes, a per-file deadline, raw bytes only, careful redirects.

The parts live beside this module: `settings` (where and how patiently), `manifests` and `catalogue` (what the
bucket offers), `record` (what the cache holds, verified), `download` (one checked file), `releases` (which
release is whose, and `abc-kg releases`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ... import registry
from ...errors import FetchError, UsageError
from ..tables import Origin, release_dir
from .catalogue import Catalogue
from .download import download, header_problem, matches
from .http import Client, Unreachable, check_base_url, redact
from .manifests import VERSION, Listed, Manifest
from .record import WANTED, Record
from .releases import cached_releases, hints, newest_offered, ours
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    """A release available in the cache: read it with `source.read_release(root, directory, release, ...)`."""

    root: Path
    directory: str
    release: str
    manifest_version: str | None
    versions: dict[str, str]  # directory -> the version its tables were resolved at
    origins: dict[str, Origin]
    statuses: dict[str, str]  # relative path -> "cached", "downloaded" or "absent"
    requested: bool = False  # True if any request was made

    @property
    def folder(self) -> Path:
        return release_dir(self.root, self.directory, self.release)

    @property
    def downloaded(self) -> bool:
        return "downloaded" in self.statuses.values()


def _from_record(record: Record, settings: Settings, spec: registry.TaxonomySpec, release: str) -> Fetched:
    wanted = record.wanted(spec, release)
    statuses = {p: "absent" if p in record.absent else "cached" for p in wanted}
    versions = {spec.directory: release, **record.versions}
    return Fetched(
        settings.cache, spec.directory, release, record.manifest_version, versions, record.origins(), statuses
    )


FIRST_RELEASE = "20230101"  # abc_atlas_access's MANIFEST_COMPATIBILITY starts here: nothing older exists


def check_release(release: str | None) -> None:
    """A release must look like a directory version: a typo is a usage error before any request."""
    if release is not None and (not VERSION.fullmatch(release) or release < FIRST_RELEASE):
        raise UsageError(
            f"release {release!r} is not an ABC Atlas directory version (YYYYMMDD, {FIRST_RELEASE} or later)"
        )


def fetch_release(spec: registry.TaxonomySpec, release: str | None = None, settings: Settings | None = None) -> Fetched:
    """Make sure the cache holds the verified tables of one release; no request at all when it already does.

    Without `release`, the newest version of the taxonomy's directory that the bucket's manifests offer (offline:
    that the cache holds).
    """
    settings = settings or Settings()
    check_base_url(settings.base_url)
    check_release(release)
    if release is not None:
        record = Record.load(settings.cache, spec.directory, release, settings.report)
        if record.complete(settings.cache, spec, release):
            fetched = _from_record(record, settings, spec, release)
            _report(settings, fetched)
            return fetched
    if settings.offline:
        return _offline(spec, release, settings)
    with settings.client() as client:
        try:
            catalogue = Catalogue(settings, client)
            fetched = _fetch_online(spec, release, settings, client, catalogue)
        except Unreachable as err:
            raise Unreachable(f"{err}. Are you offline? {_missing(spec, release, settings)}") from None
    _report(settings, fetched)
    return fetched


def _missing(spec: registry.TaxonomySpec, release: str | None, settings: Settings) -> str:
    if release is None:
        return f"The cache {settings.cache} may hold a release: try --offline."
    record = Record.load(settings.cache, spec.directory, release, report=log.info)
    pending = [p for p in record.wanted(spec, release) if not record.verified(settings.cache, p)]
    return f"Missing from the cache {settings.cache}: {', '.join(pending)}"


def _offline(spec: registry.TaxonomySpec, release: str | None, settings: Settings) -> Fetched:
    """--offline: the asked (or newest cached) release, complete in the cache, or a FetchError naming what lacks."""
    if release is None:
        candidates = cached_releases(settings.cache, spec)
        if not candidates:
            raise FetchError(f"--offline: the cache {settings.cache} holds no complete release of {spec.id}")
        release = candidates[-1]
        fetched = _from_record(Record.load(settings.cache, spec.directory, release), settings, spec, release)
        _report(settings, fetched)
        return fetched
    record = Record.load(settings.cache, spec.directory, release, report=log.info)
    pending = [p for p in record.wanted(spec, release) if not record.verified(settings.cache, p)]
    raise FetchError(
        f"--offline: {spec.id} release {release} is not complete in the cache {settings.cache}; "
        f"missing: {', '.join(pending)}"
    )


def _fetch_online(
    spec: registry.TaxonomySpec, release: str | None, settings: Settings, client: Client, catalogue: Catalogue
) -> Fetched:
    chosen, manifest = _chosen(spec, release, settings, catalogue)
    versions = {spec.directory: chosen}
    for directory in {spec.directory_of(tag) for tag in WANTED} - {spec.directory}:
        versions[directory] = (manifest.directory_version(directory) if manifest else None) or chosen
    record = Record.load(settings.cache, spec.directory, chosen, settings.report)
    record.manifest_version, record.versions = (manifest.version if manifest else None), versions
    statuses: dict[str, str] = {}
    for path, tag in record.wanted(spec, chosen).items():
        if record.verified(settings.cache, path) and path in record.files:
            statuses[path] = "cached"
            continue
        wanted = _Wanted(
            spec, chosen, path, tag, client.url(path), manifest.entry(spec.directory_of(tag), tag) if manifest else None
        )
        statuses[path] = _one(wanted, settings, client, record, manifest)
        record.save()  # after every file, so an interrupted fetch resumes where it stopped
    record.save()
    return Fetched(settings.cache, spec.directory, chosen, record.manifest_version, versions, record.origins(),
                   statuses, True)  # fmt: skip


def _chosen(
    spec: registry.TaxonomySpec, release: str | None, settings: Settings, catalogue: Catalogue
) -> tuple[str, Manifest | None]:
    """The release to fetch (asked, else the newest offered) and the newest manifest listing it, if any."""
    catalogue.consider([*hints(spec), *([release] if release else [])])
    chosen = release or newest_offered(spec, catalogue)
    manifest = catalogue.listing(spec.directory, chosen)
    if manifest is None and catalogue.complete and catalogue.versions:
        offered = ", ".join(ours(spec, catalogue.offers(spec.directory))) or "none"
        raise UsageError(f"the bucket offers no release {chosen} of {spec.id} ({spec.directory}); offered: {offered}")
    if manifest is None:
        settings.report(
            f"warning: no manifest lists {spec.directory}/{chosen}; fetching its tables by their documented paths, "
            "checking only that each is a CSV with the expected header"
        )
    return chosen, manifest


@dataclass(frozen=True)
class _Wanted:
    """One file a release needs: where it lives, and the manifest entry that vouches for it (None: no entry)."""

    spec: registry.TaxonomySpec
    release: str
    path: str
    tag: str
    url: str
    listed: Listed | None

    @property
    def required(self) -> bool:
        """The model cannot work without it (an adapter's taxonomy checks its own required files)."""
        return self.spec.adapter is None and self.tag in self.spec.required_tables


def _one(wanted: _Wanted, settings: Settings, client: Client, record: Record, manifest: Manifest | None) -> str:
    """Fetch one wanted file and record it; returns its status."""
    path, tag, url, listed, version = wanted.path, wanted.tag, wanted.url, wanted.listed, record.manifest_version
    target = settings.cache / path
    record.files.pop(path, None)
    record.absent.pop(path, None)
    if (
        manifest is not None
        and listed is None
        and manifest.directory_version(wanted.spec.directory_of(tag)) is not None
    ):
        record.absent[path] = {"url": redact(url), "manifest_version": version}  # the manifest lists every csv
        if wanted.required:
            raise FetchError(f"manifest {version} lists no {path}; {wanted.spec.id} {wanted.release} needs {tag}.csv")
        return "absent"
    if listed is not None and matches(target, listed):
        md5, status = listed.md5, "cached"  # already there (copied in, or record lost) and it matches
    else:
        md5, status = download(client, settings, url, target, listed), "downloaded"
    if md5 is None:
        return _not_found(wanted, record)
    if listed is None:
        problem = header_problem(target, tag)
        if problem is not None:
            target.unlink(missing_ok=True)
            raise FetchError(f"{redact(url)}: {problem}; not cached")
    record.files[path] = {
        "md5": md5,
        "size": target.stat().st_size,
        "url": listed.url if listed else redact(url),
        "served_from": redact(url),
        "manifest_version": version,
        "checksum": "manifest" if listed else "header",  # compared with the manifest, or only its header checked
    }
    return status


def _not_found(wanted: _Wanted, record: Record) -> str:
    """A 404: an error for a listed or required file, else recorded as absent."""
    url, version = redact(wanted.url), record.manifest_version
    if wanted.listed is not None:
        raise FetchError(f"{url}: HTTP 404 Not Found, though manifest {version} lists it")
    if wanted.required:
        raise FetchError(f"{url}: HTTP 404 Not Found; {wanted.spec.id} {wanted.release} needs {wanted.tag}.csv")
    record.absent[wanted.path] = {"url": url, "manifest_version": version}
    return "absent"


def _report(settings: Settings, fetched: Fetched) -> None:
    for path, status in fetched.statuses.items():
        settings.report(f"{status:10} {path}")
