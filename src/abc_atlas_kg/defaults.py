"""The one home of abc-kg's environment variable names and default values.

Everything here is plain data with no imports beyond the standard library, so that the command line (whose
`--help` must start in a fraction of a second) and every stage can name the same defaults without importing each
other. A stage that needs a default imports it from here; nothing spells a default twice.
"""

from __future__ import annotations

# --- where the tables come from -------------------------------------------------------------------------------
ABC_BUCKET_URL = "https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/"
DEFAULT_BASE_URL = ABC_BUCKET_URL
BASE_URL_ENV = "ABC_KG_BASE_URL"  # a mirror of the bucket
CACHE_ENV = "ABC_KG_CACHE"  # the download cache folder
REGISTRY_ENV = "ABC_KG_REGISTRY"  # one more registry file, added to the bundled taxonomies.toml
INTEGRATION_ENV = "ABC_KG_INTEGRATION"  # a local folder holding integration source files (matched by MD5)

# --- IRIs ------------------------------------------------------------------------------------------------------
# Default base of cell-set and level IRIs: {base}{taxonomy accession}/{label}, as BICAN's PURLs use.
DEFAULT_BASE_IRI = "https://purl.brain-bican.org/taxonomy/"
# Default base of what abc-kg itself mints: releases, graphs, export activities, leaf clusters, mapping axioms,
# and the levels and terms of taxonomies published without term tables (Zeng aging). `vocab/` is the vocabulary.
DEFAULT_KG_IRI = "https://w3id.org/abc-atlas-kg/"

# --- output ----------------------------------------------------------------------------------------------------
LOCK_TIMEOUT_ENV = "ABC_KG_LOCK_TIMEOUT"  # seconds a second export waits for the output folder's lock
DEFAULT_LOCK_TIMEOUT = 60.0

# --- stores ----------------------------------------------------------------------------------------------------
STORE_ENV = "ABC_KG_STORE"  # the embedded store folder
ENDPOINT_ENV = "ABC_KG_ENDPOINT"
QUERY_URL_ENV = "ABC_KG_QUERY_URL"
AUTH_ENV = "ABC_KG_ENDPOINT_AUTH"
USER_ENV = "ABC_KG_ENDPOINT_USER"
PASSWORD_ENV = "ABC_KG_ENDPOINT_PASSWORD"
TOKEN_ENV = "ABC_KG_ENDPOINT_TOKEN"
AUTH_SCHEMES = ("auto", "basic", "digest", "bearer", "none")
QUERY_OUTPUT_FORMATS = ("table", "csv", "tsv", "json")
