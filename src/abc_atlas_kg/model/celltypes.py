"""The cell-type layer's model: every cell set of a release linked to its CL/PCL classes, per source, with evidence.

One `CellTypeLink` per (cell set, class, source), its SKOS predicate taken from what the source says:

| source (reader) | link | predicate | justification |
|---|---|---|---|
| PCL mapping (`pcl-mapping`) | `exact`: the class the cell set is the exemplar of | exactMatch | ManualMappingCuration |
| | `broad`, for a cell set without an exact class (its classes through its parent cell set) | broadMatch | LogicalReasoning |
| CL component (`cl-component`) | `RO:0015001 value` / `rdf:type RO:0015002 some` | exactMatch | ManualMappingCuration |
| WHBO class base (`whbo-class-base`) | the PCL class of the exemplar; its gross CL type | exactMatch; broadMatch | ManualMappingCuration |
| TDT table, CAS JSON (`tdt-annotation`, `cas-json`) | the curated id; relatedMatch when the PCL mapping puts it above the cell set's exact class | exactMatch / relatedMatch | ManualMappingCuration |
| another taxonomy's links, through this release's mappings (shared `cluster_alias`, aging → supertype) | the other cell set's exact class | closeMatch / broadMatch, never exactMatch | MappingChaining |

Sources that disagree stay separate links; nothing is merged or overwritten. A source that names a cell set
differently from the release (stale curation) gives no link for it, and one warning per source names them all.
For a cell set with an exact class, the `broad` and `best_cl` classes PCL lists beside it are that class's own
superclasses in PCL (subclass axioms anyone loading PCL has): they are not copied, which keeps the layer to one
record per statement a source makes about the cell set itself. They still decide whether a curated id is
broader than the exact class (relatedMatch).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..registry.sources import Source
from ..source.integration.readers import cas_json, cl_component, pcl_mapping, tdt, whbo_class_base
from ..source.integration.readers.curation import CurationTable
from .layers import LayerContext
from .taxonomy import Taxonomy, TaxonomyNode

log = logging.getLogger(__name__)
LAYER = "celltypes"
CURATED = "ManualMappingCuration"
REASONED = "LogicalReasoning"
CHAINED = "MappingChaining"
# A chained link says less than the links it is made of: through an exact mapping (same cluster_alias), a
# closeMatch; through a broader cell set (the aging cluster's supertype), a broadMatch. Never exactMatch.
CHAINED_PREDICATE = {"exactMatch": "closeMatch", "closeMatch": "closeMatch", "broadMatch": "broadMatch"}
Broader = dict[str, set[str]]  # cell-set label → classes above its exact class


class CellTypeLink(NamedTuple):  # a tuple: thousands per release, made fast
    subject: str  # the label of a cell set of the release
    target: str  # a CL/PCL CURIE
    predicate: str  # SKOS local name
    justification: str  # semapv local name
    source: str  # source id (registry/sources.toml)
    target_label: str | None = None  # as the source gives it (for the SSSOM TSV)
    comment: str | None = None
    dois: tuple[str, ...] = ()  # https://doi.org/… IRIs
    markers: tuple[str, ...] = ()  # marker gene symbols


@dataclass(frozen=True)
class Bridge:
    """The same cell set under the IRI a source gives it (a CL component or WHBO individual)."""

    subject: str
    iri: str
    source: str


@dataclass
class CellTypeRecords:
    links: list[CellTypeLink] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)  # the sources read (links from other taxonomies too)
    refused: dict[str, list[str]] = field(default_factory=dict)  # source id → accessions named differently

    def __len__(self) -> int:
        return len(self.links)

    def linked(self) -> set[str]:
        return {link.subject for link in self.links}


@dataclass(frozen=True)
class Release:
    """The names of the release's cell sets: what every source's naming is checked against."""

    taxonomy: Taxonomy
    names: dict[str, str]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> Release:
        return cls(taxonomy, {term.label: term.name for term in taxonomy.terms})


@dataclass
class _Reading:
    """What one source gave, while it is being read."""

    source: Source
    links: list[CellTypeLink] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)  # "ACCESSION ('source name', release: 'release name')"
    unknown: int = 0  # cell sets the source names that the release does not have

    def knows(self, release: Release, accession: str, name: str | None, spelled: str | None = None) -> bool:
        """Is this a cell set of the release, named as the release names it? Tallies the misses."""
        if accession not in release.names:
            self.unknown += 1
            return False
        ours = release.names[accession]
        if name is not None and name not in (ours, spelled):
            self.renamed.append(f"{accession} ({name!r} here, {ours!r} in the release)")
            return False
        return True

    def add(self, subject: str, target: str, predicate: str, justification: str, **evidence: Any) -> None:
        self.links.append(CellTypeLink(subject, target, predicate, justification, self.source.id, **evidence))


# --- one function per reader --------------------------------------------------------------------------------------


def _pcl(reading: _Reading, mapping: pcl_mapping.PclMapping, release: Release, _broader: Broader) -> None:
    for label, entry in mapping.entries.items():
        if not reading.knows(release, label, None):
            continue
        if entry.exact is not None:
            reading.add(label, entry.exact.id, "exactMatch", CURATED, target_label=entry.exact.label)
            continue  # its broad and best_cl classes are PCL's own superclasses of the exact class: not copied
        for broad in entry.broad:
            via = f"via {', '.join(broad.via)}" if broad.via else None
            reading.add(label, broad.id, "broadMatch", REASONED, target_label=broad.label, comment=via)


def _component(reading: _Reading, component: cl_component.ClComponent, release: Release, _broader: Broader) -> None:
    for individual in component.individuals:
        accession = individual.accession
        name = release.names.get(accession)
        if not reading.knows(release, accession, individual.label, f"{name} {accession}"):
            continue
        reading.bridges.append(Bridge(accession, individual.iri, reading.source.id))
        for cls in dict.fromkeys(individual.exemplar_of + individual.classes):
            how = "RO:0015001 has exemplar data" if cls in individual.exemplar_of else "RO:0015002 exemplar data of"
            reading.add(accession, cls, "exactMatch", CURATED, target_label=component.class_labels.get(cls),
                        comment=how)  # fmt: skip


def _whbo(reading: _Reading, base: whbo_class_base.WhboClassBase, release: Release, _broader: Broader) -> None:
    for cls in base.classes:
        if not reading.knows(release, cls.accession, cls.name):
            continue
        reading.bridges.append(Bridge(cls.accession, cls.individual, reading.source.id))
        reading.add(cls.accession, cls.pcl_class, "exactMatch", CURATED, comment="WHBO class of this exemplar")
        if cls.gross_cell_type is not None and cls.gross_cell_type != cls.pcl_class:
            reading.add(cls.accession, cls.gross_cell_type, "broadMatch", CURATED, comment="gross cell type")


def _curations(reading: _Reading, table: CurationTable, release: Release, broader: Broader) -> None:
    for curation in table:
        if not reading.knows(release, curation.accession, curation.name):
            continue
        if curation.cell_type is None:
            continue
        above = curation.cell_type in broader.get(curation.accession, ())
        reading.add(
            curation.accession,
            curation.cell_type,
            "relatedMatch" if above else "exactMatch",
            CURATED,
            target_label=curation.cell_type_label,
            comment=curation.rationale,
            dois=curation.dois,
            markers=curation.markers,
        )


Linker = Callable[[_Reading, Any, Release, Broader], None]
# reader name (sources.toml) → (how the file is read, how its content becomes links)
LINKERS: dict[str, tuple[Callable[[Path], Any], Linker]] = {
    "pcl-mapping": (pcl_mapping.read, _pcl),
    "cl-component": (cl_component.read, _component),
    "whbo-class-base": (whbo_class_base.read, _whbo),
    "tdt-annotation": (tdt.read, _curations),
    "cas-json": (cas_json.read, _curations),
}


@lru_cache(maxsize=16)
def _parsed(reader: str, path: Path, md5: str) -> Any:
    """A source file, parsed once per process: a derived taxonomy's export reads the same files again."""
    return LINKERS[reader][0](path)


def broader_classes(parsed: Iterable[Any]) -> Broader:
    """label → the classes a PCL mapping puts above its exact class (best CL class and broad links).

    A curated id among them is broader than the exact one: such a curation is kept as relatedMatch.
    """
    found: Broader = {}
    for mapping in parsed:
        if isinstance(mapping, pcl_mapping.PclMapping):
            for label, entry in mapping.entries.items():
                if entry.exact is not None:
                    above = {c.id for c in entry.broad} | ({entry.best.id} if entry.best else set())
                    found.setdefault(label, set()).update(above - {entry.exact.id})
    return found


# --- the layer ----------------------------------------------------------------------------------------------------


def link(context: LayerContext) -> CellTypeRecords:
    """Every cell-type link of the release, from each located source, then those chained from linked taxonomies."""
    with collector_paused():
        return _link(context)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading the sources makes some 100,000 small acyclic objects (tuples, dicts, strings) in a process whose heap
    already holds the release: each cyclic-GC pass would walk all of it, for a third of the reading time. Reference
    counting still frees everything; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _link(context: LayerContext) -> CellTypeRecords:
    release = Release.of(context.taxonomy)
    records = CellTypeRecords()
    readable = [f for f in context.sources.values() if f.path is not None and f.source.reader in LINKERS]
    parsed = [_parsed(f.source.reader, f.path, f.source.md5) for f in readable if f.path is not None]
    broader = broader_classes(parsed)
    for located, content in zip(readable, parsed, strict=True):
        reading = _Reading(located.source)
        LINKERS[located.source.reader][1](reading, content, release, broader)
        if reading.links or reading.bridges or reading.renamed:
            records.sources[located.source.id] = located.source
        records.links += _unique(reading.links)
        records.bridges += list(dict.fromkeys(reading.bridges))
        _report(context, reading, release)
    _chain(context, release, records)
    return records


def _unique(links: list[CellTypeLink]) -> list[CellTypeLink]:
    """One link per (cell set, class) of a source: the first, which is the most specific statement it makes."""
    seen: dict[tuple[str, str], CellTypeLink] = {}
    for found in links:
        seen.setdefault((found.subject, found.target), found)
    return list(seen.values())


def _report(context: LayerContext, reading: _Reading, release: Release) -> None:
    source, taxonomy = reading.source, release.taxonomy
    if reading.renamed:
        context.warn(
            f"{source.id} ({source.file_name}) names {len(reading.renamed)} cell set(s) differently from "
            f"{taxonomy.id} release {taxonomy.release}; their links are not exported (stale curation?): "
            + "; ".join(reading.renamed)
        )
    if reading.unknown:
        log.info("%s: %d cell set(s) not in %s release %s", source.id, reading.unknown, taxonomy.id, taxonomy.release)


# --- links chained from another taxonomy ------------------------------------------------------------------------------


def _chain(context: LayerContext, release: Release, records: CellTypeRecords) -> None:
    """Links of another taxonomy's cell sets, through this release's own mappings onto them (MappingChaining).

    For each cell set, only its finest mapped cell set of each other taxonomy is followed (an aging cluster's
    supertype, not also its subclass and class), and only that cell set's exact links from the sources that the
    registry says serve this taxonomy.
    """
    from .. import registry

    chosen = _finest_mapped(context, release.taxonomy)
    for accession, pairs in chosen.items():
        other_id = registry.get(accession).id
        other: CellTypeRecords = context.layer_records(other_id, LAYER)
        exact: dict[str, list[CellTypeLink]] = {}
        for found in other.links:
            if found.predicate == "exactMatch" and found.source in context.sources:
                exact.setdefault(found.subject, []).append(found)
        for subject, (target, predicate) in sorted(pairs.items()):
            for found in exact.get(target, ()):
                records.links.append(
                    CellTypeLink(subject, found.target, CHAINED_PREDICATE[predicate], CHAINED, found.source,
                                 target_label=found.target_label,
                                 comment=f"chained: {predicate} {accession} {target}, whose exact class this is")
                )  # fmt: skip
                records.sources.setdefault(found.source, other.sources[found.source])


def _finest_mapped(context: LayerContext, taxonomy: Taxonomy) -> dict[str, dict[str, tuple[str, str]]]:
    """other accession → {subject label → (the finest cell set it maps onto, the mapping's predicate)}."""
    from .. import registry

    found: dict[str, dict[str, tuple[str, str]]] = {}
    ranks: dict[str, dict[str, int]] = {}
    for mapping in taxonomy.mappings:
        node = mapping.target
        if not isinstance(node, TaxonomyNode) or node.accession == taxonomy.accession:
            continue
        if mapping.predicate not in CHAINED_PREDICATE:
            continue
        if node.accession not in ranks:
            other = context.linked(registry.get(node.accession).id)
            levels = {level.label: level.rank for level in other.levels}
            ranks[node.accession] = {term.label: levels.get(term.level, -1) for term in other.terms}
        rank = ranks[node.accession].get(node.label)
        if rank is None:
            continue
        mine = found.setdefault(node.accession, {})
        current = mine.get(mapping.subject)
        if current is None or rank > ranks[node.accession].get(current[0], -1):
            mine[mapping.subject] = (node.label, mapping.predicate)
    return found
