"""The bucket's release manifests (`releases/<version>/manifest.json`), reduced to what abc-kg reads of them.

A manifest gives each *directory* its own version and lists every csv with its size and MD5. Its shape is checked
before anything is kept (a manifest of the wrong shape is never cached) and again whenever it is read back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...defaults import DEFAULT_BASE_URL
from ...errors import FetchError
from ..tables import table_path
from .http import redact

VERSION = re.compile(r"[0-9]{8}")
MD5 = re.compile(r"[0-9a-f]{32}")


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
