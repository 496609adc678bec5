"""The verified-state record of one cached release folder (`.abc-kg-fetch.json`).

It says what was fetched and verified (MD5, size, published URL, manifest version, whether the manifest or only the
header vouched for it) and which optional files are absent. When every wanted file is recorded and still hashes to
its MD5, a fetch makes no request at all, which is what makes `--offline` work; a damaged record is ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import registry
from ...fileio import atomic_write, md5_file
from ..tables import KNOWN_TABLES, KNOWN_VIEWS, Origin, release_dir, table_path
from .manifests import VERSION

log = logging.getLogger(__name__)

RECORD_NAME = ".abc-kg-fetch.json"
WANTED = (*KNOWN_TABLES, *KNOWN_VIEWS)  # the pipeline reads these and nothing else; see source.py


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
