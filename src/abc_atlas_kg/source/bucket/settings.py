"""Where to fetch from and to, and how patiently: one frozen `Settings` per command.

The defaults honour the environment (`$ABC_KG_BASE_URL` for a mirror, `$ABC_KG_CACHE` for the cache; the names live
in `defaults.py`), so a mirror just works without options.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

from ...defaults import BASE_URL_ENV, CACHE_ENV, DEFAULT_BASE_URL
from .http import Client, check_base_url

log = logging.getLogger(__name__)


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
