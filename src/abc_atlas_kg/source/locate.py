"""Where an export reads from, decided in one place and said out loud.

Rules, in order (issue 11: the bundled sample must never win silently):

1. `--source FOLDER` → that folder: the asked release, else the newest version of the taxonomy's directory there.
   A folder may carry manifests (`<folder>/releases/<version>/manifest.json`, as the bucket does): the newest one
   that lists the directory at that version gives the other directories' versions, and each local file whose size
   and MD5 match its entry is *verified* (provenance may then name the bucket URL and the manifest).
   A folder abc-kg fetched into (a cache) keeps its fetch record, which verifies files the same way.
2. Any fetch option (`--base-url`, `--cache`, `--offline`, `$ABC_KG_BASE_URL`), or a release the bundled sample
   lacks → the fetch cache, filled from the bucket as needed. Never the sample.
3. Otherwise, if the bundled sample has the taxonomy → the sample, with a note saying it is a partial rebuild.
4. Otherwise → fetch, as in 2.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import registry
from ..defaults import BASE_URL_ENV, DEFAULT_BASE_URL
from ..errors import UsageError
from ..fileio import md5_file
from ..resources import sample_root
from .bucket import fetch
from .bucket.http import redact
from .bucket.manifests import Manifest, local_manifests, read_local_manifest
from .bucket.record import read_origins
from .bucket.releases import ours
from .bucket.settings import Settings, default_cache
from .tables import KNOWN_TABLES, KNOWN_VIEWS, Origin, available_releases, table_path

log = logging.getLogger(__name__)
KINDS = ("bundled sample", "folder", "cache", "bucket")
SAMPLE_NOTE = (
    "a partial rebuild of the real 20230830 release (1,583 of 6,905 terms: no cluster-level "
    "terms; 10 of 5,322 clusters; no cluster.csv or membership table; term-set descriptions cut at 49 characters; "
    "see SAMPLE.md). For a complete release use --source FOLDER, or fetch one with --base-url/--cache/--release"
)


@dataclass(frozen=True)
class Located:
    """The answer: read `release` of the taxonomy under `root`; `description` says so for stderr."""

    root: Path
    release: str
    origin_kind: str  # one of KINDS
    description: str
    versions: dict[str, str] = field(default_factory=dict)  # directory -> version to read it at
    origins: dict[str, Origin] = field(default_factory=dict)  # bucket-relative path -> where it came from

    @property
    def where(self) -> str:
        """The description without its "reading <id> release <release>" head: "from the folder …: 5 of 5 verified"."""
        return self.description.split(f" release {self.release} ", 1)[-1]

    def elsewhere(self, spec: registry.TaxonomySpec) -> dict[str, tuple[str, str]]:
        """File tag -> (directory, version) for tables in another directory: `source.read_release`'s `elsewhere`."""
        return {tag: (d, self.versions.get(d, self.release)) for tag, d in spec.table_directories}


def fetch_requested(settings: Settings | None) -> bool:
    """Did the user ask for fetching? Then the bundled sample is never used."""
    if os.environ.get(BASE_URL_ENV):
        return True
    if settings is None:
        return False
    return (
        settings.requested
        or settings.offline
        or settings.base_url.rstrip("/") != DEFAULT_BASE_URL.rstrip("/")
        or Path(settings.cache) != default_cache()
    )


def locate(
    spec: registry.TaxonomySpec,
    release: str | None = None,
    source_folder: Path | None = None,
    settings: Settings | None = None,
) -> Located:
    """Decide where to read `spec` from (see the module docstring); fetches when that is the answer."""
    if source_folder is not None:
        return in_folder(spec, release, Path(source_folder), settings)
    if not fetch_requested(settings):
        sample = ours_in(spec, sample_root())
        if (release in sample) if release else bool(sample):
            chosen = release or sample[-1]
            return Located(
                sample_root(),
                chosen,
                "bundled sample",
                f"reading {spec.id} release {chosen} from the bundled sample: {SAMPLE_NOTE}",
                {spec.directory: chosen},
            )
    return fetched(spec, release, settings or Settings())


def ours_in(spec: registry.TaxonomySpec, root: Path) -> list[str]:
    """The versions of the taxonomy's directory present under `root` that can be its releases, oldest first."""
    return ours(spec, available_releases(root, spec.directory))


def fetched(spec: registry.TaxonomySpec, release: str | None, settings: Settings) -> Located:
    got = fetch.fetch_release(spec, release, settings)
    url = redact(settings.base_url)
    manifest = f"manifest {got.manifest_version}" if got.manifest_version else "no manifest: headers checked only"
    if got.requested and got.downloaded:
        kind, text = "bucket", f"fetched from {url} ({manifest}) into the cache {settings.cache}"
    else:
        kind, text = "cache", f"from the cache {settings.cache} ({manifest}, verified when fetched)"
    return Located(
        got.root, got.release, kind, f"reading {spec.id} release {got.release} {text}", got.versions, got.origins
    )


def in_folder(spec: registry.TaxonomySpec, release: str | None, folder: Path, settings: Settings | None) -> Located:
    """Rule 1: a local folder laid out like the bucket, with files verified where a manifest or record allows."""
    chosen = _folder_release(spec, release, folder)
    report = settings.report if settings else log.warning
    manifest = folder_manifest(folder, spec.directory, chosen, report)
    versions = {spec.directory: chosen}
    for directory in {d for _, d in spec.table_directories}:
        listed = manifest.directory_version(directory) if manifest else None
        here = available_releases(folder, directory)
        versions[directory] = listed or (chosen if chosen in here or not here else here[-1])
    origins = verify_folder(folder, spec, versions, manifest)
    wanted = [p for p in wanted_paths(spec, versions) if (folder / p).is_file()]
    checked = sum(1 for p in wanted if p in origins and origins[p].verified)
    against = f"manifest {manifest.version}" if manifest else "no manifest in the folder"
    return Located(
        folder,
        chosen,
        "folder",
        f"reading {spec.id} release {chosen} from the folder {folder}: "
        f"{checked} of {len(wanted)} file(s) verified ({against})",
        versions,
        origins,
    )


def _folder_release(spec: registry.TaxonomySpec, release: str | None, folder: Path) -> str:
    """The asked release if the folder has it, else its newest release of the taxonomy; UsageError otherwise."""
    present = ours_in(spec, folder)
    if release is not None and release not in available_releases(folder, spec.directory):
        raise UsageError(
            f"{spec.id} release {release} is not in {folder / 'metadata' / spec.directory}"
            f" (present: {', '.join(present) or 'none'})"
        )
    if release is None and not present:
        raise UsageError(f"no release of {spec.id} under {folder / 'metadata' / spec.directory}")
    return release or present[-1]


def wanted_paths(spec: registry.TaxonomySpec, versions: dict[str, str]) -> list[str]:
    out = []
    for tag in (*KNOWN_TABLES, *KNOWN_VIEWS):
        directory = spec.directory_of(tag)
        out.append(table_path(directory, versions.get(directory, versions[spec.directory]), tag))
    return out


def folder_manifest(folder: Path, directory: str, version: str, report: object) -> Manifest | None:
    """The newest manifest kept in the folder that lists `directory` at `version`, if any (damaged ones skipped)."""
    for manifest_version in reversed(local_manifests(folder)):
        if manifest_version < version:
            break
        manifest = read_local_manifest(folder, manifest_version, report)  # type: ignore[arg-type]
        if manifest is not None and manifest.lists(directory, version):
            return manifest
    return None


def verify_folder(
    folder: Path, spec: registry.TaxonomySpec, versions: dict[str, str], manifest: Manifest | None
) -> dict[str, Origin]:
    """Origins of the folder's files: a fetch record's entries that still match, then files matching the manifest."""
    origins: dict[str, Origin] = {}
    for directory, version in versions.items():
        origins.update(read_origins(folder, directory, version))
    if manifest is None:
        return origins
    for tag in (*KNOWN_TABLES, *KNOWN_VIEWS):
        directory = spec.directory_of(tag)
        listed = manifest.entry(directory, tag)
        if listed is None or listed.relative_path not in wanted_paths(spec, versions):
            continue
        path = folder / listed.relative_path
        if path.is_file() and path.stat().st_size == listed.size and md5_file(path) == listed.md5:
            origins[listed.relative_path] = Origin(listed.url, manifest.version, True)
        elif not origins.get(listed.relative_path, Origin("", None)).verified:
            origins.pop(listed.relative_path, None)  # present but not what the manifest lists: a local file
    return origins


def present_taxonomies(root: Path | None = None) -> list[str]:
    """The registry ids with a release under `root`; every id when fetching (root None)."""
    if root is None:
        return list(registry.taxonomies())
    return [spec.id for spec in registry.taxonomies().values() if ours_in(spec, root)]
