"""Namespaces and the terms abc-kg emits: established vocabularies first, the project's own (`akg:`) for the rest.

The project vocabulary is defined, with a label and a definition for every term, in `ontology/abc-atlas-kg.ttl`;
a test keeps this module and that file in step.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

AKG = "https://w3id.org/abc-atlas-kg/vocab/"
OBO = "http://purl.obolibrary.org/obo/"  # OBO PURLs are http, not https
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
SSSOM = "https://w3id.org/sssom/"
RDF_TYPE = RDF + "type"
SEMAPV = "https://w3id.org/semapv/vocab/"

PREFIXES = {
    "akg": AKG,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "obo": OBO,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "semapv": SEMAPV,
    "skos": SKOS,
    "sssom": SSSOM,
    "xsd": XSD,
}

# Local identifiers of source files whose bytes were not verified against an ABC release manifest.
LOCAL_FILE_IRI = "urn:abc-kg:file:md5:"
# Canonical home of the ABC tables; names source files in provenance.


class AkgTerm:
    """The project vocabulary (akg:)."""

    Level = NamedNode(AKG + "Level")
    HierarchyLevel = NamedNode(AKG + "HierarchyLevel")
    Facet = NamedNode(AKG + "Facet")
    Cluster = NamedNode(AKG + "Cluster")
    SourceFile = NamedNode(AKG + "SourceFile")
    TaxonomyRelease = NamedNode(AKG + "TaxonomyRelease")
    ReleaseGraph = NamedNode(AKG + "ReleaseGraph")
    MappingSet = NamedNode(AKG + "MappingSet")
    LayerGraph = NamedNode(AKG + "LayerGraph")
    parent = NamedNode(AKG + "parent")
    species = NamedNode(AKG + "species")
    cellTypeReference = NamedNode(AKG + "cellTypeReference")
    markerGeneEvidence = NamedNode(AKG + "markerGeneEvidence")
    anatomyReference = NamedNode(AKG + "anatomyReference")
    geneReference = NamedNode(AKG + "geneReference")
    verified = NamedNode(AKG + "verified")
    level = NamedNode(AKG + "level")
    parentLevel = NamedNode(AKG + "parentLevel")
    rank = NamedNode(AKG + "rank")
    order = NamedNode(AKG + "order")
    color = NamedNode(AKG + "color")
    cellCount = NamedNode(AKG + "cellCount")
    clusterAlias = NamedNode(AKG + "clusterAlias")
    memberOf = NamedNode(AKG + "memberOf")
    md5 = NamedNode(AKG + "md5")
    manifestVersion = NamedNode(AKG + "manifestVersion")


class StdTerm:
    """Established vocabulary: OBO (PCL, RO), SKOS, RDF(S), Dublin Core, DCAT, PROV, XSD."""

    type = NamedNode(RDF + "type")
    label = NamedNode(RDFS + "label")
    CellSet = NamedNode(OBO + "PCL_0010001")  # "cell set" / taxonomy node
    TaxonomyClass = NamedNode(OBO + "PCL_0010002")
    subClusterOf = NamedNode(OBO + "RO_0015003")
    Concept = NamedNode(SKOS + "Concept")
    ConceptScheme = NamedNode(SKOS + "ConceptScheme")
    prefLabel = NamedNode(SKOS + "prefLabel")
    notation = NamedNode(SKOS + "notation")
    broader = NamedNode(SKOS + "broader")
    inScheme = NamedNode(SKOS + "inScheme")
    topConceptOf = NamedNode(SKOS + "topConceptOf")
    identifier = NamedNode(DCTERMS + "identifier")
    title = NamedNode(DCTERMS + "title")
    description = NamedNode(DCTERMS + "description")
    license = NamedNode(DCTERMS + "license")
    version = NamedNode(DCAT + "version")
    isVersionOf = NamedNode(DCAT + "isVersionOf")
    previousVersion = NamedNode(DCAT + "previousVersion")
    distribution = NamedNode(DCAT + "distribution")
    isPartOf = NamedNode(DCTERMS + "isPartOf")
    Dataset = NamedNode(DCAT + "Dataset")
    downloadURL = NamedNode(DCAT + "downloadURL")
    byteSize = NamedNode(DCAT + "byteSize")
    Entity = NamedNode(PROV + "Entity")
    Activity = NamedNode(PROV + "Activity")
    SoftwareAgent = NamedNode(PROV + "SoftwareAgent")
    wasDerivedFrom = NamedNode(PROV + "wasDerivedFrom")
    wasGeneratedBy = NamedNode(PROV + "wasGeneratedBy")
    used = NamedNode(PROV + "used")
    wasAssociatedWith = NamedNode(PROV + "wasAssociatedWith")
    integer = NamedNode(XSD + "integer")
    boolean = NamedNode(XSD + "boolean")
    comment = NamedNode(RDFS + "comment")
    source = NamedNode(DCTERMS + "source")
    Axiom = NamedNode(OWL + "Axiom")
    versionInfo = NamedNode(OWL + "versionInfo")
    sameAs = NamedNode(OWL + "sameAs")
    Restriction = NamedNode(OWL + "Restriction")
    onProperty = NamedNode(OWL + "onProperty")
    someValuesFrom = NamedNode(OWL + "someValuesFrom")
    seeAlso = NamedNode(RDFS + "seeAlso")
    exemplarDataOf = NamedNode(OBO + "RO_0015002")  # a cell set is exemplar data of (some) cell type
    annotatedSource = NamedNode(OWL + "annotatedSource")
    annotatedProperty = NamedNode(OWL + "annotatedProperty")
    annotatedTarget = NamedNode(OWL + "annotatedTarget")
    mappingJustification = NamedNode(SSSOM + "mapping_justification")


def skos(local: str) -> NamedNode:
    return NamedNode(SKOS + local)


def semapv(local: str) -> NamedNode:
    return NamedNode(SEMAPV + local)


def xsd(local: str) -> NamedNode:
    return NamedNode(XSD + local)


def akg(local: str) -> NamedNode:
    return NamedNode(AKG + local)


# CURIE prefixes that the ABC tables use for outside ontologies and databases (OBO PURLs are http).
CURIE_PREFIXES = {
    "CL": OBO + "CL_",
    "UBERON": OBO + "UBERON_",
    "PCL": OBO + "PCL_",
    "DHBA": "https://purl.brain-bican.org/ontology/dhbao/DHBA_",
    "MBA": "https://purl.brain-bican.org/ontology/mbao/MBA_",
    "ENSEMBL": "http://identifiers.org/ensembl/",
    "NCBIGENE": "https://identifiers.org/ncbigene/",
}

# Which kind of thing each outside prefix names, and so which akg annotation property links a cell set to it.
REFERENCE_KINDS = {
    "CL": "cellTypeReference",
    "PCL": "cellTypeReference",
    "UBERON": "anatomyReference",
    "DHBA": "anatomyReference",
    "MBA": "anatomyReference",
    "ENSEMBL": "geneReference",
    "NCBIGENE": "geneReference",
}


def expand_curie(curie: str) -> str | None:
    """CL:0000127 → http://purl.obolibrary.org/obo/CL_0000127; None for an unknown prefix or an empty id."""
    prefix, sep, local = curie.partition(":")
    namespace = CURIE_PREFIXES.get(prefix.strip().upper())
    local = local.strip()
    if not sep or namespace is None or not local or any(c in local for c in ' <>"{}|^`'):
        return None
    return namespace + local


def ncbi_taxon(taxon_id: str) -> NamedNode:
    return NamedNode(f"{OBO}NCBITaxon_{taxon_id}")
