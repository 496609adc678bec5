"""Fetch stage: copy one taxonomy release's tables from the ABC Atlas bucket into a local cache, verified.

The cache is shaped like the bucket (`<cache>/metadata/<directory>/<release>/...`, manifests under
`<cache>/releases/<version>/manifest.json`), so `source.read_release(cache, ...)` reads it exactly as it reads the
bundled sample or a `--source` folder: fetching adds files, never a second reader.

Files are resolved through a release manifest, which gives each file's size and MD5 (`file_hash`). A directory
version is not a manifest version, so the manifest of the same date is tried first, then the bucket's listing of
manifests. Downloads stream to a temporary file beside their destination and are renamed into place only after
their size and MD5 check out: the cache never holds a file that failed its check. What was verified is recorded
in a sidecar, `<release folder>/.abc-kg-fetch.json` (MD5, size, URL, manifest version per file, and the optional
files found absent); when every wanted file is recorded and still hashes to its recorded MD5, a fetch makes no
HTTP request at all, which is also what makes `--offline` work. `read_origins` gives the reader the URL and
manifest version of each file for provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from platformdirs import user_cache_dir
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from . import __version__
from .errors import FetchError, UsageError
from .registry import TaxonomySpec
from .source import KNOWN_TABLES, KNOWN_VIEWS, TERM, TERM_SET, Origin, release_dir, table_path
from .vocab import ABC_BUCKET_URL

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = ABC_BUCKET_URL
BASE_URL_ENV = "ABC_KG_BASE_URL"
CACHE_ENV = "ABC_KG_CACHE"
RECORD_NAME = ".abc-kg-fetch.json"
WANTED = (*KNOWN_TABLES, *KNOWN_VIEWS)  # the pipeline reads these and nothing else; see source.py
REQUIRED = (TERM_SET, TERM)  # the model cannot work without these; the others may be absent from a release
CHUNK = 1 << 16
VERSION = re.compile(r"[0-9]{8}")
SECRET_QUERY_KEYS = re.compile(r"signature|credential|token|secret|password|key", re.IGNORECASE)

T = TypeVar("T")


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
    report: Callable[[str], None] = field(default=log.warning, compare=False)  # status lines and warnings

    def url(self, relative_path: str) -> str:
        return self.base_url.rstrip("/") + "/" + relative_path


def redact(url: str) -> str:
    """A URL fit for messages and provenance: no user:password, no signature or token values."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = [
        (k, "***" if SECRET_QUERY_KEYS.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/*"), ""))


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


# ---------------------------------------------------------------- the verified-state record


@dataclass(frozen=True)
class Listed:
    """A file as a manifest lists it: the size and MD5 the download must match."""

    relative_path: str
    size: int
    md5: str


@dataclass
class Record:
    """The sidecar of one release folder: what was fetched and verified, and which optional files are absent."""

    path: Path
    manifest_version: str | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> md5, size, url, ...
    absent: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> url, manifest_version

    @classmethod
    def load(cls, cache: Path, directory: str, release: str) -> Record:
        path = release_dir(cache, directory, release) / RECORD_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, data.get("manifest_version"), dict(data["files"]), dict(data["absent"]))
        except FileNotFoundError:
            return cls(path)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable fetch record %s (%s); files will be checked again", path, err)
            return cls(path)

    def save(self) -> None:
        data = {"manifest_version": self.manifest_version, "files": self.files, "absent": self.absent}
        _write_atomically(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"))

    def verified(self, cache: Path, relative_path: str) -> bool:
        """Recorded as absent, or present with the recorded size and MD5 (re-hashed: tables are small)."""
        if relative_path in self.absent:
            return True
        entry = self.files.get(relative_path)
        target = cache / relative_path
        if entry is None or not target.is_file() or target.stat().st_size != entry["size"]:
            return False
        return md5_of(target) == entry["md5"]

    def origins(self) -> dict[str, Origin]:
        return {path: Origin(e["url"], e.get("manifest_version")) for path, e in self.files.items()}


def read_origins(root: Path, directory: str, release: str) -> dict[str, Origin]:
    """URL and manifest version of each file abc-kg fetched into `root`; empty for folders it did not fetch."""
    return Record.load(root, directory, release).origins()


# ---------------------------------------------------------------- HTTP with retries


class _Retryable(Exception):
    """A failure worth another attempt: connection error, timeout, 5xx."""


class Unreachable(FetchError):
    """The bucket could not be reached (refused, timed out, connection lost) after every retry: offline?"""


class _Http:
    """One session; every request has a timeout, and transient failures are retried with exponential backoff."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"abc-atlas-kg/{__version__}"

    def close(self) -> None:
        self.session.close()

    def retrying(self, url: str, attempt: Callable[[], T]) -> T:
        """Run `attempt` until it succeeds, raises a non-transient error, or the retries are spent."""
        tries = self.settings.retries + 1
        for number in range(1, tries + 1):
            try:
                return attempt()
            except (
                _Retryable,
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as err:
                reason = _reason(err)
                if number == tries:
                    failure = FetchError if isinstance(err, _Retryable) else Unreachable
                    raise failure(f"{redact(url)}: {reason} (gave up after {tries} attempt(s))") from err
                delay = self.settings.backoff * 2 ** (number - 1)
                self.settings.report(
                    f"warning: {redact(url)}: {reason}; retrying in {delay:.2g} s (attempt {number + 1} of {tries})"
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    def get(self, url: str, *, stream: bool = False) -> requests.Response:
        return self.session.get(url, stream=stream, timeout=self.settings.timeout)


def _reason(err: Exception) -> str:
    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.ConnectionError) and "refused" in str(err).lower():
        return "connection refused"
    if isinstance(err, requests.ConnectionError):
        return "connection failed"
    return str(err)


def _check_status(response: requests.Response, url: str) -> None:
    """5xx is worth retrying; any other error status is final."""
    if response.status_code >= 500:
        raise _Retryable(f"server error HTTP {response.status_code}")
    if response.status_code >= 400:
        raise FetchError(f"{redact(url)}: HTTP {response.status_code} {response.reason}")


def _get_bytes(http: _Http, url: str) -> bytes | None:
    """The body of a small document (manifest, listing), or None if it does not exist (404)."""

    def attempt() -> bytes | None:
        with http.get(url) as response:
            if response.status_code == 404:
                return None
            _check_status(response, url)
            return response.content

    return http.retrying(url, attempt)


# ---------------------------------------------------------------- manifests


@dataclass(frozen=True)
class Manifest:
    """One `releases/<version>/manifest.json`, read only where abc-kg needs it."""

    version: str
    data: dict[str, Any]

    def lists(self, directory: str, release: str) -> bool:
        """Does this manifest publish `directory` at directory version `release`?"""
        listing = self.data.get("directory_listing", {}).get(directory, {})
        if listing.get("directories", {}).get("metadata", {}).get("version") == release:
            return True
        return any(self.entry(directory, tag, release) for tag in WANTED)

    def entry(self, directory: str, tag: str, release: str) -> Listed | None:
        """The csv of `tag` if the manifest lists it at this release's documented path, else None."""
        try:
            csv = self.data["file_listing"][directory]["metadata"][tag]["files"]["csv"]
        except (KeyError, TypeError):
            return None
        if csv.get("relative_path") != table_path(directory, release, tag):
            return None
        try:
            return Listed(csv["relative_path"], int(csv["size"]), str(csv["file_hash"]).lower())
        except (KeyError, TypeError, ValueError) as err:
            raise FetchError(f"manifest {self.version} has a malformed entry for {tag}: {err!r}") from err


def _manifest_path(cache: Path, version: str) -> Path:
    return cache / "releases" / version / "manifest.json"


def load_manifest(http: _Http | None, settings: Settings, version: str) -> Manifest | None:
    """A manifest from the cache (manifests never change), else downloaded and cached; None if there is none."""
    path = _manifest_path(settings.cache, version)
    if path.is_file():
        try:
            return Manifest(version, json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            log.warning("cached manifest %s is not JSON; fetching it again", path)
    if http is None:
        return None
    url = settings.url(f"releases/{version}/manifest.json")
    body = _get_bytes(http, url)
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError as err:
        raise FetchError(f"{redact(url)} is not a JSON manifest: {err}") from err
    _write_atomically(path, body)
    return Manifest(version, data)


def parse_listing(body: bytes) -> tuple[list[str], str | None]:
    """Manifest versions in one page of an S3 ListObjectsV2 answer, and the continuation token if truncated."""
    root = ET.fromstring(body)
    names = [e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("Prefix", "Key")]
    versions = {n.split("/")[1] for n in names if n.startswith("releases/") and n.count("/") >= 2}
    token = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "NextContinuationToken"), None)
    return sorted(v for v in versions if VERSION.fullmatch(v)), token


def list_manifests(http: _Http, settings: Settings) -> list[str] | None:
    """Every manifest version the bucket lists (S3 ListObjectsV2 on `releases/`); None if it offers no listing."""
    versions: set[str] = set()
    token: str | None = None
    while True:
        query = "list-type=2&prefix=releases/" + (f"&continuation-token={token}" if token else "")
        url = settings.base_url.rstrip("/") + "/?" + query
        try:
            body = _get_bytes(http, url)
            if body is None:
                return None
            page, token = parse_listing(body)
        except (FetchError, ET.ParseError) as err:
            if isinstance(err, Unreachable):
                raise
            settings.report(f"warning: {redact(settings.base_url)} offers no S3 listing of manifests ({err})")
            return None
        versions.update(page)
        if not token:
            return sorted(versions)


def cached_manifests(cache: Path) -> list[str]:
    folder = cache / "releases"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if VERSION.fullmatch(p.name) and (p / "manifest.json").is_file())


def find_manifest(http: _Http, settings: Settings, directory: str, release: str, hint: str | None) -> Manifest | None:
    """The manifest that lists `directory` at `release`: the recorded one, the same date, then the listing."""
    tried: set[str] = set()
    for version in dict.fromkeys(v for v in (hint, release) if v):
        tried.add(version)
        manifest = load_manifest(http, settings, version)
        if manifest is not None and manifest.lists(directory, release):
            return manifest
    # A directory version appears in manifests of its own date or later (each takes the newest version <= itself).
    for version in list_manifests(http, settings) or []:
        if version >= release and version not in tried:
            manifest = load_manifest(http, settings, version)
            if manifest is not None and manifest.lists(directory, release):
                return manifest
    settings.report(
        f"warning: no manifest lists {directory}/{release}; "
        "fetching its tables by their documented paths, with locally computed MD5s"
    )
    return None


# ---------------------------------------------------------------- downloads


@contextmanager
def _progress() -> Iterator[Progress]:
    """One bar per file on stderr; silent when stderr is not a terminal (pipes, CI, logs)."""
    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, disable=not sys.stderr.isatty(), transient=False) as progress:
        yield progress


def _stream_to(response: requests.Response, target: Path, url: str, listed: Listed | None, progress: Progress) -> str:
    """Write the body to a temporary file, check size and MD5, then rename it into place; returns the MD5."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.md5(), 0
        total = listed.size if listed else int(response.headers.get("Content-Length") or 0) or None
        task = progress.add_task(target.name, total=total)
        with os.fdopen(fd, "wb") as out:
            for block in response.iter_content(CHUNK):
                out.write(block)
                digest.update(block)
                size += len(block)
                progress.update(task, advance=len(block))
        actual = digest.hexdigest()
        if listed is not None and size != listed.size:
            raise FetchError(f"{redact(url)}: size mismatch: expected {listed.size} bytes, got {size}; not cached")
        if listed is not None and actual != listed.md5:
            raise FetchError(f"{redact(url)}: MD5 mismatch: expected {listed.md5}, got {actual}; not cached")
        os.replace(tmp, target)
        return actual
    finally:
        tmp.unlink(missing_ok=True)


def _download(http: _Http, url: str, target: Path, listed: Listed | None, progress: Progress) -> str | None:
    """Download and verify one file; None if the server has no such file (404)."""

    def attempt() -> str | None:
        with http.get(url, stream=True) as response:
            if response.status_code == 404:
                return None
            _check_status(response, url)
            return _stream_to(response, target, url, listed, progress)

    return http.retrying(url, attempt)


# ---------------------------------------------------------------- one release


@dataclass(frozen=True)
class Fetched:
    """A release available in the cache: read it with `source.read_release(root, directory, release, origins)`."""

    root: Path
    directory: str
    release: str
    manifest_version: str | None
    origins: dict[str, Origin]
    statuses: dict[str, str]  # relative path -> "cached", "downloaded" or "absent"

    @property
    def folder(self) -> Path:
        return release_dir(self.root, self.directory, self.release)


def choose_release(spec: TaxonomySpec, release: str | None) -> str:
    """The release asked for, else the newest the registry pins for the taxonomy.

    Only pinned releases are fetched: a typo should be a usage error, not a string of 404s from the bucket.
    A release the registry does not know yet can still be read from a folder with `--source`.
    """
    if release is None:
        return spec.releases[-1]
    if release not in spec.releases:
        raise UsageError(
            f"{spec.id} has no release {release} in the registry (known: {', '.join(spec.releases)}); "
            "use --source for a local copy of another release"
        )
    return release


def fetch_release(spec: TaxonomySpec, release: str | None = None, settings: Settings | None = None) -> Fetched:
    """Make sure the cache holds the verified tables of one release; no request at all when it already does."""
    settings = settings or Settings()
    chosen = choose_release(spec, release)
    wanted = {table_path(spec.directory_of(tag), chosen, tag): tag for tag in WANTED}
    record = Record.load(settings.cache, spec.directory, chosen)
    pending = [path for path in wanted if not record.verified(settings.cache, path)]
    statuses = {path: "absent" if path in record.absent else "cached" for path in wanted if path not in pending}
    if pending and settings.offline:
        raise FetchError(
            f"--offline: {spec.id} release {chosen} is not complete in the cache {settings.cache}; "
            f"missing: {', '.join(pending)}"
        )
    if pending:
        http = _Http(settings)
        try:
            statuses.update(_ReleaseFetch(spec, chosen, settings, record, http).run(pending, wanted))
        except Unreachable as err:
            raise Unreachable(
                f"{err}. Are you offline? Missing from the cache {settings.cache}: {', '.join(pending)}"
            ) from err
        finally:
            http.close()
    for path in wanted:
        settings.report(f"{statuses[path]:10} {path}")
    return Fetched(settings.cache, spec.directory, chosen, record.manifest_version, record.origins(), statuses)


@dataclass
class _ReleaseFetch:
    """The files of one release still to fetch, with everything their downloads share."""

    spec: TaxonomySpec
    release: str
    settings: Settings
    record: Record
    http: _Http
    manifest: Manifest | None = None

    def run(self, pending: list[str], wanted: dict[str, str]) -> dict[str, str]:
        """Resolve the manifest, then fetch each pending file, recording each as soon as it is verified."""
        self.manifest = find_manifest(
            self.http, self.settings, self.spec.directory, self.release, self.record.manifest_version
        )
        self.record.manifest_version = self.manifest.version if self.manifest else None
        statuses: dict[str, str] = {}
        with _progress() as progress:
            for path in pending:
                statuses[path] = self.one(path, wanted[path], progress)
                self.record.save()  # after every file, so an interrupted fetch resumes where it stopped
        return statuses

    def one(self, path: str, tag: str, progress: Progress) -> str:
        """Fetch one wanted file and record it; returns its status."""
        url, target, version = self.settings.url(path), self.settings.cache / path, self.record.manifest_version
        directory = self.spec.directory_of(tag)
        listed = self.manifest.entry(directory, tag, self.release) if self.manifest else None
        self.record.files.pop(path, None)
        self.record.absent.pop(path, None)
        if listed is not None and _matches(target, listed):
            md5, status = listed.md5, "cached"  # already there (copied in, or record lost) and it matches
        else:
            md5, status = _download(self.http, url, target, listed, progress), "downloaded"
        if md5 is None:
            if listed is not None:
                raise FetchError(f"{redact(url)}: HTTP 404 Not Found, though manifest {version} lists it")
            if tag in REQUIRED and self.spec.adapter is None:  # an adapter's taxonomy has its own required files
                raise FetchError(f"{redact(url)}: HTTP 404 Not Found; {self.spec.id} {self.release} needs {tag}.csv")
            self.record.absent[path] = {"url": redact(url), "manifest_version": version}
            return "absent"
        self.record.files[path] = {
            "md5": md5,
            "size": target.stat().st_size,
            "url": redact(url),
            "manifest_version": version,
            "checksum": "manifest" if listed else "local",  # compared with the manifest, or only computed here
        }
        return status


def _matches(target: Path, listed: Listed) -> bool:
    return target.is_file() and target.stat().st_size == listed.size and md5_of(target) == listed.md5


def available_manifests(settings: Settings) -> tuple[list[str], bool]:
    """Manifest versions the bucket lists (and True), or the cached ones (and False) when offline or unlisted."""
    if settings.offline:
        return cached_manifests(settings.cache), False
    http = _Http(settings)
    try:
        listed = list_manifests(http, settings)
    except Unreachable as err:
        settings.report(f"warning: {err}; showing the manifests cached in {settings.cache}")
        listed = None
    finally:
        http.close()
    if listed is None:
        return cached_manifests(settings.cache), False
    return listed, True
