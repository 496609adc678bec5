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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from ... import registry
from ...defaults import BASE_URL_ENV, CACHE_ENV, DEFAULT_BASE_URL
from ...errors import FetchError, UsageError
from ...fileio import atomic_write, md5_file
from ..tables import (
    ABBREVIATION,
    ABBREVIATION_MAP,
    CLUSTER,
    CLUSTER_MAPPING,
    KNOWN_TABLES,
    KNOWN_VIEWS,
    MEMBERSHIP,
    PIVOTED,
    TERM,
    TERM_SET,
    Origin,
    release_dir,
    table_path,
)
from .http import Client, TooLarge, Unreachable, check_base_url, redact

__all__ = ["FetchError", "Unreachable", "redact"]

log = logging.getLogger(__name__)

RECORD_NAME = ".abc-kg-fetch.json"
WANTED = (*KNOWN_TABLES, *KNOWN_VIEWS)  # the pipeline reads these and nothing else; see source.py
REQUIRED = (TERM_SET, TERM)  # the model cannot work without these; the others may be absent from a release
VERSION = re.compile(r"[0-9]{8}")
MD5 = re.compile(r"[0-9a-f]{32}")
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


def default_cache() -> Path:
    """`$ABC_KG_CACHE`, else the platform's user cache directory (e.g. ~/.cache/abc-atlas-kg on Linux)."""
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("abc-atlas-kg"))


def default_base_url() -> str:
    """`$ABC_KG_BASE_URL` (a mirror), else the public ABC Atlas bucket."""
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


@dataclass(frozen=True)
class Settings:
    """Where to fetch from and to, and how patiently. Defaults honour the environment, so mirrors just work."""

    base_url: str = field(default_factory=default_base_url)
    cache: Path = field(default_factory=default_cache)
    offline: bool = False  # forbid every request: use the cache or fail
    timeout: float = 30.0  # seconds, for connecting and between received bytes, on every request
    retries: int = 4  # extra attempts after connection errors, timeouts and 5xx responses
    backoff: float = 1.0  # first delay in seconds; doubled on each further attempt
    deadline: float = 600.0  # seconds for one file (or manifest, or listing page), all attempts included
    max_manifest_bytes: int = 32 << 20  # real manifests are about 250 kB
    max_table_bytes: int = 2 << 30  # for a table no manifest gives a size for
    max_listing_pages: int = 100  # S3 pages of 1,000 keys each; a listing that never ends stops here
    requested: bool = False  # the user asked for fetching (--base-url, --cache, --offline): never use the sample
    report: Callable[[str], None] = field(default=log.warning, compare=False)  # status lines and warnings

    def url(self, relative_path: str) -> str:
        return check_base_url(self.base_url).url + relative_path

    def client(self) -> Client:
        return Client(
            self.base_url, timeout=self.timeout, retries=self.retries, backoff=self.backoff, report=self.report
        )


def hints(spec: registry.TaxonomySpec) -> tuple[str, ...]:
    """The registry's offline hints about a taxonomy's releases (`known_releases`, formerly `releases`)."""
    return tuple(getattr(spec, "known_releases", None) or getattr(spec, "releases", None) or ())


def ours(spec: registry.TaxonomySpec, versions: Iterable[str]) -> list[str]:
    """The versions among `versions` that can be releases of `spec`, oldest first.

    Two taxonomies can share a directory (WMB-taxonomy 20230630 is CCN20230504, later versions CCN20230722): a
    version the registry hints for another taxonomy is not ours, and a version nobody hints (a new release) belongs
    to the taxonomy whose hinted releases are the newest of the directory.
    """
    mine = set(hints(spec))
    others = {
        version
        for other in registry.taxonomies().values()
        if other.id != spec.id and other.directory == spec.directory
        for version in hints(other)
    } - mine
    current = not others or max(mine, default="") >= max(others)
    return sorted(v for v in set(versions) if v in mine or (current and v not in others))


# ---------------------------------------------------------------- manifests


@dataclass(frozen=True)
class Listed:
    """A file as a manifest lists it: the size and MD5 the download must match, and its published URL."""

    relative_path: str
    size: int
    md5: str
    url: str


@dataclass(frozen=True)
class Manifest:
    """One `releases/<version>/manifest.json`, reduced to what abc-kg reads: metadata directories and csv files."""

    version: str
    directories: dict[str, str]  # directory -> its metadata version in this release
    files: dict[tuple[str, str], Listed]  # (directory, file tag) -> csv entry

    def directory_version(self, directory: str) -> str | None:
        return self.directories.get(directory)

    def lists(self, directory: str, version: str) -> bool:
        return self.directories.get(directory) == version

    def entry(self, directory: str, tag: str) -> Listed | None:
        """The csv of `tag` if listed at the documented path of this manifest's directory version, else None."""
        listed = self.files.get((directory, tag))
        version = self.directories.get(directory)
        if listed is None or version is None or listed.relative_path != table_path(directory, version, tag):
            return None
        return listed


class BadManifest(FetchError):
    """A manifest that is not JSON of the real manifest's shape: never cached."""


def parse_manifest(body: bytes, version: str, where: str) -> Manifest:
    """Validate a manifest's shape (what abc-kg reads of it) before anything is kept; BadManifest names the flaw."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadManifest(f"{where} is not a JSON manifest ({str(err)[:80]})") from None
    try:
        return _shape(data, version)
    except (KeyError, TypeError, ValueError) as err:
        raise BadManifest(f"{where} is not a release manifest: {str(err)[:200]}") from None


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is a {type(value).__name__}, not an object")
    return value


def _shape(data: Any, version: str) -> Manifest:
    data = _dict(data, "the manifest")
    if data.get("version", version) != version:
        raise ValueError(f"it says version {str(data.get('version'))[:20]!r}, but was served as {version}")
    directories: dict[str, str] = {}
    for name, listing in _dict(data["directory_listing"], "directory_listing").items():
        kinds = _dict(_dict(listing, f"directory_listing.{name}")["directories"], f"{name}.directories")
        metadata = kinds.get("metadata")
        if metadata is not None:
            dir_version = _dict(metadata, f"{name}.directories.metadata")["version"]
            if not isinstance(dir_version, str) or not VERSION.fullmatch(dir_version):
                raise ValueError(f"directory {name} has version {str(dir_version)[:20]!r}, not YYYYMMDD")
            directories[name] = dir_version
    files: dict[tuple[str, str], Listed] = {}
    for name, kinds in _dict(data["file_listing"], "file_listing").items():
        metadata = _dict(kinds, f"file_listing.{name}").get("metadata", {})
        for tag, entry in _dict(metadata, f"file_listing.{name}.metadata").items():
            formats = _dict(_dict(entry, f"{name}/{tag}")["files"], f"{name}/{tag}.files")
            csv = formats.get("csv")
            if csv is not None:
                files[(name, tag)] = _listed(_dict(csv, f"{name}/{tag}.csv"), f"{name}/{tag}")
    return Manifest(version, directories, files)


def _listed(csv: dict[str, Any], what: str) -> Listed:
    path, size, md5 = csv["relative_path"], csv["size"], csv["file_hash"]
    if not isinstance(path, str) or path.startswith("/") or ".." in path.split("/"):
        raise ValueError(f"{what} has the relative_path {str(path)[:80]!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"{what} has the size {str(size)[:20]!r}, not a byte count")
    if not isinstance(md5, str) or not MD5.fullmatch(md5.lower()):
        raise ValueError(f"{what} has the file_hash {str(md5)[:40]!r}, not an MD5")
    url = csv.get("url")
    url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else DEFAULT_BASE_URL + path
    return Listed(path, size, md5.lower(), redact(url))


def manifest_path(root: Path, version: str) -> Path:
    return root / "releases" / version / "manifest.json"


def read_local_manifest(root: Path, version: str, report: Callable[[str], None]) -> Manifest | None:
    """A manifest kept in a local folder, re-validated (the file may have been damaged since); None if unusable."""
    path = manifest_path(root, version)
    try:
        body = path.read_bytes()
    except OSError:
        return None
    try:
        return parse_manifest(body, version, str(path))
    except BadManifest as err:
        report(f"warning: {err}; not used")
        return None


def local_manifests(root: Path) -> list[str]:
    """Versions of the manifests a folder holds (`<root>/releases/<version>/manifest.json`), oldest first."""
    folder = root / "releases"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if VERSION.fullmatch(p.name) and (p / "manifest.json").is_file())


cached_manifests = local_manifests


def parse_listing(body: bytes) -> tuple[list[str], str | None]:
    """Manifest versions in one page of an S3 ListObjectsV2 answer, and the continuation token if truncated.

    Parsed with regular expressions, not an XML parser: a hostile listing cannot expand entities.
    """
    text = body.decode("utf-8", "replace")
    if "<ListBucketResult" not in text:
        raise ValueError("not an S3 ListBucketResult")
    names = re.findall(r"<(?:Key|Prefix)>([^<]*)</(?:Key|Prefix)>", text)
    versions = {n.split("/")[1] for n in names if n.startswith("releases/") and n.count("/") >= 2}
    token = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", text)
    return sorted(v for v in versions if VERSION.fullmatch(v)), token.group(1) if token else None


def list_manifests(client: Client, settings: Settings) -> list[str] | None:
    """Every manifest version the bucket lists (ListObjectsV2 on `releases/`); None if it offers no listing.

    At most `max_listing_pages` pages: a listing that always returns a continuation token stops with a FetchError.
    """
    from urllib.parse import quote

    versions: set[str] = set()
    token: str | None = None
    seen: set[str] = set()
    for _ in range(settings.max_listing_pages):
        query = "?list-type=2&prefix=releases/" + (f"&continuation-token={quote(token, safe='')}" if token else "")
        url = client.base.url + query
        try:
            body = client.fetch(url, settings.max_manifest_bytes, settings.deadline)
        except Unreachable:
            raise
        except TooLarge as err:
            raise FetchError(f"listing of {redact(client.base.url)}releases/: {err}") from None
        except FetchError as err:
            settings.report(f"warning: {redact(client.base.url)} offers no S3 listing of manifests ({err})")
            return None
        if body is None:
            return None
        try:
            page, token = parse_listing(body)
        except ValueError as err:
            settings.report(f"warning: {redact(client.base.url)} offers no S3 listing of manifests ({err})")
            return None
        versions.update(page)
        if not token:
            return sorted(versions)
        if token in seen:
            raise FetchError(f"{redact(client.base.url)}: the listing of releases/ repeats a continuation token")
        seen.add(token)
    raise FetchError(
        f"{redact(client.base.url)}: the listing of releases/ did not end after {settings.max_listing_pages} pages; "
        "stopped (a misbehaving mirror?)"
    )


class Catalogue:
    """The manifests one command can see: the bucket's (listed, fetched and cached as needed) or the cached ones."""

    def __init__(self, settings: Settings, client: Client | None):
        self.settings, self.client = settings, client
        self.loaded: dict[str, Manifest | None] = {}
        listed = list_manifests(client, settings) if client is not None else None
        self.complete = listed is not None  # the bucket listed every manifest it has
        self.versions = listed if listed is not None else local_manifests(settings.cache)

    def manifest(self, version: str) -> Manifest | None:
        if version not in self.loaded:
            self.loaded[version] = self._load(version)
        return self.loaded[version]

    def _load(self, version: str) -> Manifest | None:
        """From the cache (re-validated), else downloaded, validated, then cached; None if there is none."""
        cached = read_local_manifest(self.settings.cache, version, self.settings.report)
        if cached is not None or self.client is None:
            return cached
        url = self.client.url(f"releases/{version}/manifest.json")
        try:
            body = self.client.fetch(url, self.settings.max_manifest_bytes, self.settings.deadline)
        except TooLarge as err:
            raise FetchError(f"{err} (the manifest limit); not cached") from None
        if body is None:
            return None
        manifest = parse_manifest(body, version, redact(url))  # BadManifest: nothing is cached
        atomic_write(manifest_path(self.settings.cache, version), body)
        return manifest

    def consider(self, versions: Iterable[str]) -> None:
        """Without a listing, also try these manifest versions (registry hints, the release's own date)."""
        if not self.complete:
            self.versions = sorted(set(self.versions) | {v for v in versions if VERSION.fullmatch(v)})

    def offers(self, directory: str) -> dict[str, list[str]]:
        """Directory version -> the manifests that list it, over every manifest seen."""
        found: dict[str, list[str]] = {}
        for version in self.versions:
            manifest = self.manifest(version)
            if manifest is not None and manifest.directory_version(directory):
                found.setdefault(manifest.directories[directory], []).append(version)
        return found

    def listing(self, directory: str, release: str) -> Manifest | None:
        """The newest manifest that lists `directory` at `release` (a directory version is listed from its date on)."""
        for version in sorted(self.versions, reverse=True):
            if version < release:
                break
            manifest = self.manifest(version)
            if manifest is not None and manifest.lists(directory, release):
                return manifest
        return None


# ---------------------------------------------------------------- the verified-state record


@dataclass
class Record:
    """The sidecar of one release folder: what was fetched and verified, and which optional files are absent."""

    path: Path
    manifest_version: str | None = None
    versions: dict[str, str] = field(default_factory=dict)  # directory -> version the files were resolved at
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> md5, size, url, checksum
    absent: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> url, manifest_version

    @classmethod
    def load(cls, cache: Path, directory: str, release: str, report: Callable[[str], None] = log.warning) -> Record:
        path = release_dir(cache, directory, release) / RECORD_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = cls(path, data["manifest_version"], dict(data["versions"]), dict(data["files"]))
            record.absent = dict(data["absent"])
            record._check()
            return record
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            report(f"warning: ignoring the damaged fetch record {path} ({type(err).__name__}); checking files again")
            return cls(path)

    def _check(self) -> None:
        """Raise on any entry of the wrong shape, so that a damaged record is ignored rather than trusted."""
        if self.manifest_version is not None and not isinstance(self.manifest_version, str):
            raise TypeError("manifest_version")
        for key, value in self.versions.items():
            if not (isinstance(key, str) and isinstance(value, str) and VERSION.fullmatch(value)):
                raise ValueError("versions")
        for entry in self.files.values():
            if not (isinstance(entry["md5"], str) and isinstance(entry["size"], int) and isinstance(entry["url"], str)):
                raise TypeError("files")
            if entry["checksum"] not in ("manifest", "header"):
                raise ValueError("checksum")

    def save(self) -> None:
        data = {
            "manifest_version": self.manifest_version,
            "versions": self.versions,
            "files": self.files,
            "absent": self.absent,
        }
        atomic_write(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"))

    def verified(self, cache: Path, relative_path: str) -> bool:
        """Recorded as absent, or present with the recorded size and MD5 (re-hashed: tables are small)."""
        if relative_path in self.absent:
            return True
        entry = self.files.get(relative_path)
        target = cache / relative_path
        if entry is None or not target.is_file() or target.stat().st_size != entry["size"]:
            return False
        return md5_file(target) == entry["md5"]

    def wanted(self, spec: registry.TaxonomySpec, release: str) -> dict[str, str]:
        """Relative path -> file tag of every table this release needs, at the recorded directory versions."""
        versions = {spec.directory: release, **self.versions}
        return {table_path(d, versions.get(d, release), tag): tag for tag in WANTED for d in [spec.directory_of(tag)]}

    def complete(self, cache: Path, spec: registry.TaxonomySpec, release: str) -> bool:
        return bool(self.versions) and all(self.verified(cache, p) for p in self.wanted(spec, release))

    def origins(self) -> dict[str, Origin]:
        return {
            p: Origin(e["url"], e.get("manifest_version"), e["checksum"] == "manifest") for p, e in self.files.items()
        }


def read_origins(root: Path, directory: str, release: str) -> dict[str, Origin]:
    """URL and manifest version of each file abc-kg fetched into `root` and that still matches; {} otherwise."""
    record = Record.load(root, directory, release, report=log.info)
    return {p: o for p, o in record.origins().items() if record.verified(root, p)}


# ---------------------------------------------------------------- downloads


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


def _download(client: Client, settings: Settings, url: str, target: Path, listed: Listed | None) -> str | None:
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


def cached_releases(cache: Path, spec: registry.TaxonomySpec) -> list[str]:
    """Releases of `spec` complete and verified in the cache, oldest first."""
    base = cache / "metadata" / spec.directory
    present = [p.name for p in base.iterdir() if (p / RECORD_NAME).is_file()] if base.is_dir() else []
    return [v for v in ours(spec, present) if Record.load(cache, spec.directory, v, log.info).complete(cache, spec, v)]


def newest_offered(spec: registry.TaxonomySpec, catalogue: Catalogue) -> str:
    offered = ours(spec, catalogue.offers(spec.directory))
    if not offered:
        raise FetchError(
            f"no manifest of {redact(catalogue.settings.base_url)} lists {spec.directory} "
            f"(manifests seen: {', '.join(catalogue.versions) or 'none'})"
        )
    return offered[-1]


def _fetch_online(
    spec: registry.TaxonomySpec, release: str | None, settings: Settings, client: Client, catalogue: Catalogue
) -> Fetched:
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
        statuses[path] = _one(spec, chosen, settings, client, record, manifest, path, tag)
        record.save()  # after every file, so an interrupted fetch resumes where it stopped
    record.save()
    return Fetched(settings.cache, spec.directory, chosen, record.manifest_version, versions, record.origins(),
                   statuses, True)  # fmt: skip


def _one(
    spec: registry.TaxonomySpec,
    release: str,
    settings: Settings,
    client: Client,
    record: Record,
    manifest: Manifest | None,
    path: str,
    tag: str,
) -> str:
    """Fetch one wanted file and record it; returns its status."""
    directory = spec.directory_of(tag)
    url, target, version = client.url(path), settings.cache / path, record.manifest_version
    listed = manifest.entry(directory, tag) if manifest else None
    record.files.pop(path, None)
    record.absent.pop(path, None)
    if manifest is not None and listed is None and manifest.directory_version(directory) is not None:
        record.absent[path] = {"url": redact(url), "manifest_version": version}  # the manifest lists every csv
        if tag in REQUIRED and spec.adapter is None:
            raise FetchError(f"manifest {version} lists no {path}; {spec.id} {release} needs {tag}.csv")
        return "absent"
    if listed is not None and _matches(target, listed):
        md5, status = listed.md5, "cached"  # already there (copied in, or record lost) and it matches
    else:
        md5, status = _download(client, settings, url, target, listed), "downloaded"
    if md5 is None:
        if listed is not None:
            raise FetchError(f"{redact(url)}: HTTP 404 Not Found, though manifest {version} lists it")
        if tag in REQUIRED and spec.adapter is None:  # an adapter's taxonomy has its own required files
            raise FetchError(f"{redact(url)}: HTTP 404 Not Found; {spec.id} {release} needs {tag}.csv")
        record.absent[path] = {"url": redact(url), "manifest_version": version}
        return "absent"
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


def _matches(target: Path, listed: Listed) -> bool:
    return target.is_file() and target.stat().st_size == listed.size and md5_file(target) == listed.md5


def _report(settings: Settings, fetched: Fetched) -> None:
    for path, status in fetched.statuses.items():
        settings.report(f"{status:10} {path}")


# ---------------------------------------------------------------- what the bucket offers


@dataclass(frozen=True)
class ReleaseRow:
    """One line of `abc-kg releases`: a taxonomy's directory version and the manifests that list it."""

    taxonomy: str
    directory: str
    version: str
    manifests: tuple[str, ...]  # empty for a release cached without its manifest
    cached: bool  # the cache holds it complete and verified


@dataclass(frozen=True)
class ReleaseTable:
    rows: list[ReleaseRow]
    where: str  # "https://mirror/" or "the cache /path (offline)"
    live: bool  # True when the bucket answered


def release_table(settings: Settings | None = None) -> ReleaseTable:
    """Per taxonomy, the directory versions the bucket's manifests offer (the cached ones when offline/unreachable).

    Raises FetchError (exit 4) when the bucket cannot be reached and the cache holds nothing.
    """
    settings = settings or Settings()
    check_base_url(settings.base_url)
    catalogue: Catalogue | None = None
    if not settings.offline:
        client = settings.client()
        try:
            catalogue = Catalogue(settings, client)
            rows = _rows(catalogue, settings)
            return ReleaseTable(rows, redact(settings.base_url), True)
        except Unreachable as err:
            settings.report(f"warning: {err}; showing what the cache {settings.cache} holds")
        finally:
            client.close()
    catalogue = Catalogue(settings, None)
    rows = _rows(catalogue, settings)
    if not rows and not catalogue.versions and not settings.offline:  # offline, an empty cache is an honest answer
        raise FetchError(f"{redact(settings.base_url)} cannot be reached and the cache {settings.cache} holds nothing")
    return ReleaseTable(rows, f"the cache {settings.cache}", False)


def _rows(catalogue: Catalogue, settings: Settings) -> list[ReleaseRow]:
    rows: list[ReleaseRow] = []
    for spec in registry.taxonomies().values():
        offers = catalogue.offers(spec.directory)
        cached = set(cached_releases(settings.cache, spec))
        for version in ours(spec, set(offers) | (cached if not catalogue.complete else set())):
            rows.append(ReleaseRow(spec.id, spec.directory, version, tuple(offers.get(version, ())), version in cached))
    return rows


def available_manifests(settings: Settings) -> tuple[list[str], bool]:
    """Manifest versions the bucket lists (and True), or the cached ones (and False) when offline or unlisted."""
    if settings.offline:
        return local_manifests(settings.cache), False
    client = settings.client()
    try:
        listed = list_manifests(client, settings)
    except Unreachable as err:
        settings.report(f"warning: {err}; showing the manifests cached in {settings.cache}")
        listed = None
    finally:
        client.close()
    if listed is None:
        return local_manifests(settings.cache), False
    return listed, True
