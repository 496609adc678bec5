"""A taxonomy release's mappings as an SSSOM TSV file: a YAML mapping-set header, then one row per mapping.

The same records as the owl:Axioms of the mappings graph (see `convert.mapping_triples`), in the form SSSOM tools
(sssom-py, OxO, Mapping Commons) read. The mapping set is named by the mappings graph's IRI, so the TSV and the
RDF agree on what they describe. Written next to the RDF as `<accession>.sssom.tsv`.
"""

from __future__ import annotations

import csv
import io
import json

from ..defaults import DEFAULT_BASE_IRI, DEFAULT_KG_IRI
from ..model.taxonomy import ExternalNode, Taxonomy, TaxonomyNode, TermMapping
from ..rdf.vocab import CURIE_PREFIXES, SEMAPV, SKOS
from .release import iri_segment, iris_of

# What abc-kg asserts about its mapping sets: the same licence as the vocabulary.
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "comment",
)


def sssom_tsv(taxonomy: Taxonomy, base_iri: str = DEFAULT_BASE_IRI, kg_iri: str = DEFAULT_KG_IRI) -> str:
    """The SSSOM TSV (header and rows) of the taxonomy release's mappings; rows sorted, so output is stable."""
    iris = iris_of(taxonomy, base_iri, kg_iri)
    prefixes = {"skos": SKOS, "semapv": SEMAPV, iri_segment(taxonomy.accession): iris.namespace}
    for mapping in taxonomy.mappings:
        target = mapping.target
        if isinstance(target, TaxonomyNode):
            prefixes[iri_segment(target.accession)] = f"{base_iri}{iri_segment(target.accession)}/"
        else:
            prefix = _prefix(target)
            prefixes[prefix] = CURIE_PREFIXES[prefix]
    names = {term.label: term.name for term in taxonomy.terms}
    rows = sorted(_row(mapping, taxonomy.accession, names) for mapping in taxonomy.mappings)
    title = f"Mappings of {taxonomy.title}, release {taxonomy.release}"
    return header(iris.mappings_graph.value, taxonomy.release, title, prefixes) + table(rows)


def _prefix(target: ExternalNode) -> str:
    return target.curie.partition(":")[0].strip().upper()


def _row(mapping: TermMapping, accession: str, names: dict[str, str]) -> tuple[str, ...]:
    target = mapping.target
    if isinstance(target, TaxonomyNode):
        object_id = f"{iri_segment(target.accession)}:{iri_segment(target.label)}"
        object_label = names.get(target.label, "") if target.accession == accession else ""
    else:
        prefix = _prefix(target)
        object_id, object_label = f"{prefix}:{target.iri[len(CURIE_PREFIXES[prefix]) :]}", ""
    return (
        f"{iri_segment(accession)}:{iri_segment(mapping.subject)}",
        names.get(mapping.subject, ""),
        f"skos:{mapping.predicate}",
        object_id,
        object_label,
        f"semapv:{mapping.justification}",
        mapping.comment or "",
    )


def header(mapping_set_id: str, version: str, title: str, prefixes: dict[str, str]) -> str:
    """The YAML metadata block, each line behind `#`; strings JSON-quoted, which is valid YAML.

    Every mapping set abc-kg writes (the mappings graph's, an integration layer's) has this header.
    """
    lines = ["curie_map:"]
    lines += [f"  {prefix}: {json.dumps(namespace)}" for prefix, namespace in sorted(prefixes.items())]
    lines += [
        f"mapping_set_id: {json.dumps(mapping_set_id)}",
        f"mapping_set_version: {json.dumps(version)}",
        f"mapping_set_title: {json.dumps(title)}",
        f"license: {json.dumps(LICENSE)}",
        "creator_label:",
        '  - "abc-atlas-kg developers"',
    ]
    return "".join(f"# {line}\n" for line in lines)


def table(rows: list[tuple[str, ...]], columns: tuple[str, ...] = COLUMNS) -> str:
    """The TSV body: a header row of SSSOM slot names, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()
