"""Which releases exist: a taxonomy's versions among its directory's, and the table `abc-kg releases` prints."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ... import registry
from ...errors import FetchError
from .catalogue import Catalogue
from .http import Unreachable, check_base_url, redact
from .record import RECORD_NAME, Record
from .settings import Settings

log = logging.getLogger(__name__)


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
