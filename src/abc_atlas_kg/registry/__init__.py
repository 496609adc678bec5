"""The taxonomies abc-kg knows, declared as data in `taxonomies.toml` and checked when it is loaded.

The registry is the only home of what differs between taxonomies and releases (facets, label forms, what the
membership counts mean, required and optional tables, statistics columns, enrichment steps). A typo in it is a
one-line error naming the key and the values that would have been accepted, never a traceback or a silent default.

`ABC_KG_REGISTRY` may name one more TOML file of the same form: its tables are added to the bundled ones (and
replace a bundled table of the same id), so a taxonomy whose tables follow the ABC form needs no code at all.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..defaults import REGISTRY_ENV
from ..errors import UsageError
from . import plugins

# Names the registry may use for code (adapters, link kinds, enrichment steps) are those of `plugins.py`.
MEMBERSHIP_COUNTS = ("cluster", "other", "none")  # cluster: the leaf's own count; other: not the leaf's; none: absent
STATISTIC_DATATYPES = ("integer", "double", "string", "colour")
TABLE_TAGS = (
    "cluster_annotation_term_set",
    "cluster_annotation_term",
    "cluster",
    "cluster_to_cluster_annotation_membership",
    "cluster_to_cluster_annotation_membership_pivoted",
    "cluster_mapping",
    "abbreviation_term",
    "cluster_annotation_to_abbreviation_map",
)  # the ABC tables (and the one view) abc-kg reads, by file tag: source/layout.py names them
VIEW_TAGS = ("cluster_to_cluster_annotation_membership_pivoted",)  # those of TABLE_TAGS that live in views/


class RegistryError(UsageError):
    """`taxonomies.toml` (or the file in ABC_KG_REGISTRY) is not a registry abc-kg can use."""


@dataclass(frozen=True)
class Link:
    """A cross-taxonomy link computed at export time (e.g. clusters sharing a cluster_alias)."""

    kind: str
    other: str  # the other taxonomy's id


@dataclass(frozen=True)
class StatisticColumn:
    """A per-cluster figure beyond the cell count: which akg property it becomes and how its cells are typed."""

    column: str
    property: str
    datatype: str  # integer, double, string or colour (a colour is checked, then written as a string)


@dataclass(frozen=True)
class Abbreviations:
    """Where a taxonomy publishes term → abbreviation → ontology id tables (HMBA-BG), for the enrichment step."""

    terms: str = "abbreviation_term"
    map: str = "cluster_annotation_to_abbreviation_map"
    identifier_columns: tuple[str, ...] = ("primary_identifier", "secondary_identifier")
    predicate: str = "relatedMatch"


@dataclass(frozen=True)
class ReleaseQuirks:
    """What differs in one directory version of a taxonomy; unset fields fall back to the taxonomy's own."""

    facets: frozenset[str] | None = None
    term_label_pattern: str | None = None
    membership_counts: str | None = None
    omitted_term_sets: frozenset[str] = frozenset()  # term sets the release is known to publish without terms
    note: str | None = None  # said with every warning about what the release lacks


@dataclass(frozen=True)
class TaxonomySpec:
    """What abc-kg must know about a taxonomy that its tables do not say. See taxonomies.toml."""

    id: str
    accession: str
    title: str
    species: tuple[str, ...]  # NCBITaxon numeric ids
    directory: str
    known_releases: tuple[str, ...] = ()  # offline hints only: the bucket's manifests say which releases exist
    facets: frozenset[str] = frozenset()
    adapter: str | None = None
    table_directories: tuple[tuple[str, str], ...] = ()
    required_tables: tuple[str, ...] = ("cluster_annotation_term_set", "cluster_annotation_term")
    optional_tables: tuple[str, ...] = ()  # enrichment tables: when absent, one warning and the rest is exported
    membership_counts: str = "cluster"
    term_label_pattern: str | None = None
    species_by_name_prefix: tuple[tuple[str, str], ...] = ()
    enrich: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    maps_onto: str | None = None
    statistics: tuple[StatisticColumn, ...] = ()
    abbreviations: Abbreviations = field(default_factory=Abbreviations)
    release_quirks: tuple[tuple[str, ReleaseQuirks], ...] = ()

    def directory_of(self, tag: str) -> str:
        """The ABC directory a table lives in: the taxonomy's own, unless declared otherwise."""
        return dict(self.table_directories).get(tag, self.directory)

    def quirks(self, release: str) -> ReleaseQuirks:
        return dict(self.release_quirks).get(release, ReleaseQuirks())

    def at(self, release: str) -> TaxonomySpec:
        """This spec with the quirks of one release applied (facets, label form, count meaning)."""
        quirks = self.quirks(release)
        return replace(
            self,
            facets=self.facets if quirks.facets is None else quirks.facets,
            term_label_pattern=quirks.term_label_pattern or self.term_label_pattern,
            membership_counts=quirks.membership_counts or self.membership_counts,
        )


# --- loading and checking ---------------------------------------------------------------------------------------


def toml_keys(cls: type, renamed: dict[str, str] | None = None, skipped: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The keys a TOML table of `cls` may hold: its fields (some under another name in TOML), sorted."""
    renamed = renamed or {}
    return tuple(sorted(renamed.get(f.name, f.name) for f in fields(cls) if f.name not in skipped))


TOP_KEYS = toml_keys(TaxonomySpec, {"release_quirks": "release"}, skipped=("id",))
REQUIRED_KEYS = tuple(
    f.name for f in fields(TaxonomySpec) if f.name != "id" and f.default is MISSING and f.default_factory is MISSING
)
RELEASE_KEYS = toml_keys(ReleaseQuirks)
LINK_KEYS = toml_keys(Link, {"other": "with"})
STATISTIC_KEYS = toml_keys(StatisticColumn, skipped=("column",))  # the column is the key of its table
ABBREVIATION_KEYS = toml_keys(Abbreviations)


class _Checker:
    """Reads one taxonomy table, turning each mistake into a RegistryError that names file, table and key."""

    def __init__(self, origin: str, taxonomy: str):
        self.origin, self.taxonomy = origin, taxonomy

    def fail(self, key: str, message: str) -> RegistryError:
        return RegistryError(f"{self.origin}: [{self.taxonomy}] {key}: {message}")

    def keys(self, table: dict[str, Any], known: tuple[str, ...], where: str = "") -> None:
        for key in table:
            if key not in known:
                raise self.fail(where + key, f"unknown key (known: {', '.join(known)})")

    def one_of(self, key: str, value: Any, known: tuple[str, ...]) -> str:
        if value not in known:
            raise self.fail(key, f"unknown value {value!r} (known: {', '.join(known)})")
        return str(value)

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def taxon(self, key: str, value: str) -> str:
        """A species is the number of its NCBITaxon IRI (10090 for mouse): the shapes accept nothing else."""
        if not (value.isascii() and value.isdigit()):
            raise self.fail(key, f"expected an NCBITaxon number such as 10090 (mouse), got {value!r}")
        return value

    def texts(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def table(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {value!r}")
        return value

    def pattern(self, key: str, value: Any) -> str:
        text = self.text(key, value)
        try:
            re.compile(text)
        except re.error as err:
            raise self.fail(key, f"is not a regular expression: {err}") from None
        return text

    def tags(self, key: str, value: Any) -> tuple[str, ...]:
        return tuple(self.one_of(key, tag, TABLE_TAGS) for tag in self.texts(key, value))


def _spec(origin: str, key: str, entry: Any) -> TaxonomySpec:
    check = _Checker(origin, key)
    entry = check.table("(taxonomy)", entry)
    check.keys(entry, TOP_KEYS)
    for required in REQUIRED_KEYS:
        if required not in entry:
            raise check.fail(required, "is required")
    adapter = entry.get("adapter")
    if adapter is not None:
        check.one_of("adapter", adapter, tuple(plugins.ADAPTERS))
    directories = _table_directories(check, entry.get("table_directories", {}))
    prefixes = check.table("species_by_name_prefix", entry.get("species_by_name_prefix", {}))
    for prefix, species in prefixes.items():
        check.taxon(f"species_by_name_prefix.{prefix}", check.text(f"species_by_name_prefix.{prefix}", species))
    enrich, links = _enrichment(check, entry, bool(prefixes))
    spec = TaxonomySpec(
        id=key,
        accession=check.text("accession", entry["accession"]),
        title=check.text("title", entry["title"]),
        species=tuple(check.taxon("species", s) for s in check.texts("species", entry["species"])),
        directory=check.text("directory", entry["directory"]),
        known_releases=check.texts("known_releases", entry.get("known_releases", [])),
        facets=frozenset(check.texts("facets", entry.get("facets", []))),
        adapter=adapter,
        table_directories=tuple(sorted(directories.items())),
        membership_counts=check.one_of(
            "membership_counts", entry.get("membership_counts", "cluster"), MEMBERSHIP_COUNTS
        ),
        term_label_pattern=(
            check.pattern("term_label_pattern", entry["term_label_pattern"]) if "term_label_pattern" in entry else None
        ),
        species_by_name_prefix=tuple(sorted(prefixes.items())),
        enrich=enrich,
        links=links,
        maps_onto=check.text("maps_onto", entry["maps_onto"]) if "maps_onto" in entry else None,
        statistics=_statistics(check, entry.get("statistics", {})),
        abbreviations=_abbreviations(check, entry.get("abbreviations", {})),
        release_quirks=_release_quirks(check, entry.get("release", {})),
    )
    if "required_tables" in entry:
        spec = replace(spec, required_tables=check.tags("required_tables", entry["required_tables"]))
    if "optional_tables" in entry:
        spec = replace(spec, optional_tables=check.tags("optional_tables", entry["optional_tables"]))
    return spec


def _table_directories(check: _Checker, value: Any) -> dict[str, str]:
    directories = check.table("table_directories", value)
    for tag, directory in directories.items():
        check.one_of("table_directories", tag, TABLE_TAGS)
        check.text(f"table_directories.{tag}", directory)
    return directories


def _enrichment(check: _Checker, entry: dict[str, Any], has_prefixes: bool) -> tuple[tuple[str, ...], tuple[Link, ...]]:
    """The enrichment steps and the links, each step with what it needs."""
    steps = tuple(plugins.ENRICHMENT_STEPS)
    enrich = tuple(check.one_of("enrich", step, steps) for step in check.texts("enrich", entry.get("enrich", [])))
    links = _links(check, entry.get("links", []))
    if "species-from-names" in enrich and not has_prefixes:
        raise check.fail("enrich", "step 'species-from-names' needs species_by_name_prefix")
    if "shared-alias-links" in enrich and not links:
        raise check.fail("enrich", "step 'shared-alias-links' needs links")
    if links and "shared-alias-links" not in enrich:
        raise check.fail("links", "are declared but the enrichment step 'shared-alias-links' is not in enrich")
    return enrich, links


def _links(check: _Checker, value: Any) -> tuple[Link, ...]:
    if not isinstance(value, list):
        raise check.fail("links", f"expected a list of tables, got {value!r}")
    found = []
    for link in value:
        link = check.table("links", link)
        check.keys(link, LINK_KEYS, "links.")
        found.append(
            Link(
                check.one_of("links.kind", link.get("kind"), tuple(plugins.LINK_KINDS)),
                check.text("links.with", link.get("with")),
            )
        )
    return tuple(found)


def _statistics(check: _Checker, value: Any) -> tuple[StatisticColumn, ...]:
    found = []
    for column, entry in check.table("statistics", value).items():
        entry = check.table(f"statistics.{column}", entry)
        check.keys(entry, STATISTIC_KEYS, f"statistics.{column}.")
        found.append(
            StatisticColumn(
                column,
                check.text(f"statistics.{column}.property", entry.get("property")),
                check.one_of(f"statistics.{column}.datatype", entry.get("datatype"), STATISTIC_DATATYPES),
            )
        )
    return tuple(found)


def _abbreviations(check: _Checker, value: Any) -> Abbreviations:
    entry = check.table("abbreviations", value)
    check.keys(entry, ABBREVIATION_KEYS, "abbreviations.")
    default = Abbreviations()
    return Abbreviations(
        terms=check.one_of("abbreviations.terms", entry.get("terms", default.terms), TABLE_TAGS),
        map=check.one_of("abbreviations.map", entry.get("map", default.map), TABLE_TAGS),
        identifier_columns=check.texts(
            "abbreviations.identifier_columns", entry.get("identifier_columns", list(default.identifier_columns))
        ),
        predicate=check.text("abbreviations.predicate", entry.get("predicate", default.predicate)),
    )


def _release_quirks(check: _Checker, value: Any) -> tuple[tuple[str, ReleaseQuirks], ...]:
    found = []
    for version, entry in check.table("release", value).items():
        where = f"release.{version}."
        entry = check.table(f"release.{version}", entry)
        check.keys(entry, RELEASE_KEYS, where)
        facets = entry.get("facets")
        found.append(
            (
                version,
                ReleaseQuirks(
                    facets=None if facets is None else frozenset(check.texts(where + "facets", facets)),
                    term_label_pattern=(
                        check.pattern(where + "term_label_pattern", entry["term_label_pattern"])
                        if "term_label_pattern" in entry
                        else None
                    ),
                    membership_counts=(
                        check.one_of(where + "membership_counts", entry["membership_counts"], MEMBERSHIP_COUNTS)
                        if "membership_counts" in entry
                        else None
                    ),
                    omitted_term_sets=frozenset(
                        check.texts(where + "omitted_term_sets", entry.get("omitted_term_sets", []))
                    ),
                    note=check.text(where + "note", entry["note"]) if "note" in entry else None,
                ),
            )
        )
    return tuple(sorted(found))


def parse(text: str, origin: str) -> dict[str, TaxonomySpec]:
    """Parse and check a registry document; `origin` names it in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RegistryError(f"{origin}: not valid TOML: {err}") from None
    specs = {key: _spec(origin, key, entry) for key, entry in raw.items()}
    return specs


def _check_references(specs: dict[str, TaxonomySpec], origin: str) -> None:
    for spec in specs.values():
        others = [("maps_onto", spec.maps_onto)] + [("links.with", link.other) for link in spec.links]
        for key, other in others:
            if other is not None and other not in specs:
                raise _Checker(origin, spec.id).fail(
                    key, f"unknown taxonomy {other!r} (known: {', '.join(sorted(specs))})"
                )


@cache
def _load(extra: str | None) -> dict[str, TaxonomySpec]:
    specs = parse(
        files("abc_atlas_kg.registry").joinpath("taxonomies.toml").read_text(encoding="utf-8"), "taxonomies.toml"
    )
    origin = "taxonomies.toml"
    if extra:
        path = Path(extra)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise RegistryError(f"{REGISTRY_ENV}={extra}: cannot read it ({err.strerror})") from None
        specs = {**specs, **parse(text, str(path))}
        origin = str(path)
    _check_references(specs, origin)
    return specs


def taxonomies() -> dict[str, TaxonomySpec]:
    """Every registered taxonomy: the bundled registry plus the file named by ABC_KG_REGISTRY, if set."""
    return _load(os.environ.get(REGISTRY_ENV) or None)


def get(taxonomy_id: str) -> TaxonomySpec:
    """Look a taxonomy up by id, or by accession for users who think in CCN numbers."""
    known = taxonomies()
    if taxonomy_id in known:
        return known[taxonomy_id]
    for spec in known.values():
        if spec.accession == taxonomy_id:
            return spec
    raise UsageError(f"unknown taxonomy {taxonomy_id!r}; known: {', '.join(sorted(known))}")
