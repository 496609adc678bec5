"""Which manifests one command can see: the bucket's S3 listing of `releases/` (bounded), or the cached ones."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...errors import FetchError
from ...fileio import atomic_write
from .http import Client, TooLarge, Unreachable, redact
from .manifests import VERSION, Manifest, local_manifests, manifest_path, parse_manifest, read_local_manifest
from .settings import Settings


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
