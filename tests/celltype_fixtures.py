"""Releases built in a test's folder from the real cell-type sources, for taxonomies whose real tables are not in
../shared (only WMB 20231215 is). Each writes ABC-shaped tables (`metadata/<directory>/<version>/`) whose labels
and names come from the sources themselves, so every link the sources make can be checked; what is made up to
complete a valid hierarchy is marked `fixture` in its name and never named by any source.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyoxigraph as ox

RO_PARENT = "http://purl.obolibrary.org/obo/RO_0015003"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def tsv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def component_names(owl: Path) -> dict[str, str]:
    """label → ABC name of every individual of a CL component that carries an rdfs:label "<name> <label>"."""
    store = ox.Store()
    store.bulk_load(path=str(owl), format=ox.RdfFormat.RDF_XML)
    query = "SELECT ?i ?l WHERE { ?i <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(CONTAINS(STR(?i), '/ontology/CCN')) }"
    names = {}
    for row in store.query(query):
        label = row["i"].value.rsplit("/", 1)[1]
        text = row["l"].value
        names[label] = text[: -len(label) - 1] if text.endswith(" " + label) else text
    return names


# --- HMBA-BG CCN20250428 -------------------------------------------------------------------------------------------

HMBA_LEVELS = [("NEIGH", "Neighborhood"), ("CLASS", "Class"), ("SUBCL", "Subclass"), ("GROUP", "Group"),
               ("CLUST", "Cluster")]  # fmt: skip


def hmba_release(root: Path, integration: Path, with_cas: bool) -> dict[str, str]:
    """HMBA-BG release 20250630 of the 47 cell sets of bgo-cl-comp.owl (their names as the component gives them,
    which are the release's), plus, with `with_cas`, every other accession of the CAS JSON under the name of its
    first annotation. Returns label → name of the real (not made-up) terms."""
    names = component_names(integration / "cl" / "cell-ontology" / "bgo-cl-comp.owl")
    if with_cas:
        cas = json.loads((integration / "cl" / "hmba-tdt" / "CS20250428.json").read_text(encoding="utf-8"))
        for annotation in cas["annotations"]:
            names.setdefault(annotation["cell_set_accession"], annotation["cell_label"])
    folder = root / "metadata" / "HMBA-BG-taxonomy-CCN20250428" / "20250630"
    write_csv(folder / "cluster_annotation_term_set.csv", ["label", "name", "description", "order"],
              [[f"CCN20250428_LEVEL_{i}", name, name, str(i)] for i, (_, name) in enumerate(HMBA_LEVELS)])  # fmt: skip
    made_up = {tag: f"CS20250428_{tag}_9000" for tag, _ in HMBA_LEVELS}
    rows = []
    every = dict(names) | {label: f"fixture {tag.lower()}" for tag, label in made_up.items()}
    for order, (label, name) in enumerate(sorted(every.items())):
        tag = label.split("_")[1]
        rank = [t for t, _ in HMBA_LEVELS].index(tag)
        parent = made_up[HMBA_LEVELS[rank - 1][0]] if rank else ""
        rows.append([label, name, f"CCN20250428_LEVEL_{rank}", HMBA_LEVELS[rank][1], "#000000", str(order), str(rank),
                     parent, every.get(parent, ""), f"CCN20250428_LEVEL_{rank - 1}" if rank else ""])  # fmt: skip
    write_csv(folder / "cluster_annotation_term.csv",
              ["label", "name", "cluster_annotation_term_set_label", "cluster_annotation_term_set_name",
               "color_hex_triplet", "term_order", "term_set_order", "parent_term_label", "parent_term_name",
               "parent_term_set_label"], rows)  # fmt: skip
    return names


# --- WHB CCN202210140 ------------------------------------------------------------------------------------------------

WHB_SETS = {"supercluster_term": ("CCN202210140_SUPC", "supercluster", 0), "Cluster": ("CCN202210140_CLUS", "cluster", 1),
            "subcluster": ("CCN202210140_SUBC", "subcluster", 2)}  # fmt: skip


def whb_release(root: Path, integration: Path) -> dict[str, tuple[str, str]]:
    """WHB release 20240330 of the 3,805 supercluster, cluster and subcluster terms of the two WHB TDT tables (their
    labels, names and parents equal the real release's); the neurotransmitter facet is left out. Returns label →
    (name, level name)."""
    terms: dict[str, tuple[str, str, str]] = {}
    for table in ("whb-neurons-tdt", "whb-nonneuronal-tdt"):
        for row in tsv_rows(integration / "cl" / table / "annotation.tsv"):
            terms[row["cell_set_accession"]] = (row["cell_label"], row["labelset"], row["parent_cell_set_accession"])
    folder = root / "metadata" / "WHB-taxonomy" / "20240330"
    write_csv(folder / "cluster_annotation_term_set.csv", ["label", "name", "description", "order"],
              [[label, name, name, str(order)] for label, name, order in WHB_SETS.values()])  # fmt: skip
    rows = []
    for order, (label, (name, labelset, parent)) in enumerate(sorted(terms.items())):
        set_label, set_name, rank = WHB_SETS[labelset]
        parent_set = WHB_SETS[terms[parent][1]][0] if parent else ""
        rows.append([label, name, set_label, parent, parent_set, str(rank), str(order), set_name])
    write_csv(folder / "cluster_annotation_term.csv",
              ["label", "name", "cluster_annotation_term_set_label", "parent_term_label", "parent_term_set_label",
               "term_set_order", "term_order", "cluster_annotation_term_set_name"], rows)  # fmt: skip
    return {label: (name, WHB_SETS[labelset][1]) for label, (name, labelset, _) in terms.items()}


# --- WMB CCN20230504 and the aging clusters, beside the real WMB 20231215 ----------------------------------------------


def wmb_aliases(bucket: Path) -> dict[str, str]:
    """cluster_alias → the CCN20230722 cluster-level term of that cluster, from the real membership table."""
    path = bucket / "metadata" / "WMB-taxonomy" / "20231215" / "cluster_to_cluster_annotation_membership.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["cluster_alias"]: row["cluster_annotation_term_label"]
            for row in csv.DictReader(handle)
            if row["cluster_annotation_term_set_label"] == "CCN20230722_CLUS"
        }


RETIRED = ("90001", "90002", "90003")  # aliases CCN20230722 does not have: no link can be chained to them


def derived_root(root: Path, bucket: Path, atlas: Path) -> list[str]:
    """A source folder holding the real WMB 20231215 (linked), a CCN20230504 release 20230630 whose clusters carry the
    real CCN20230722 aliases plus three retired ones (one made-up class, subclass and supertype above them), and the
    aging fixture's cluster_mapping.csv. Returns the CCN20230504 aliases."""
    wmb = root / "metadata" / "WMB-taxonomy" / "20231215"
    wmb.parent.mkdir(parents=True)
    wmb.symlink_to((bucket / "metadata" / "WMB-taxonomy" / "20231215").resolve(), target_is_directory=True)
    aging = "Zeng-Aging-Mouse-WMB-taxonomy"
    (root / "metadata" / aging).symlink_to((atlas / "metadata" / aging).resolve(), target_is_directory=True)
    aliases = sorted(wmb_aliases(bucket), key=int) + list(RETIRED)
    folder = root / "metadata" / "WMB-taxonomy" / "20230630"
    write_csv(folder / "cluster_annotation_term_set.csv", ["label", "description", "name", "order"],
              [["CCN20230504_CLAS", "class", "class", "2"], ["CCN20230504_SUBC", "subclass", "subclass", "3"],
               ["CCN20230504_SUPT", "supertype", "supertype", "4"], ["CCN20230504_CLUS", "cluster", "cluster", "5"]])  # fmt: skip
    upper = [("CCN20230504_CLAS_01", "01 fixture class", "CCN20230504_CLAS", ""),
             ("CCN20230504_SUBC_001", "001 fixture subclass", "CCN20230504_SUBC", "CCN20230504_CLAS_01"),
             ("CCN20230504_SUPT_0001", "0001 fixture supertype", "CCN20230504_SUPT", "CCN20230504_SUBC_001")]  # fmt: skip
    clusters = [(f"CCN20230504_CLUS_{i + 1:04d}", f"{i + 1:04d} fixture cluster", "CCN20230504_CLUS",
                 "CCN20230504_SUPT_0001") for i in range(len(aliases))]  # fmt: skip
    parent_set = {"CCN20230504_CLAS": "", "CCN20230504_SUBC": "CCN20230504_CLAS", "CCN20230504_SUPT": "CCN20230504_SUBC",
                  "CCN20230504_CLUS": "CCN20230504_SUPT"}  # fmt: skip
    write_csv(folder / "cluster_annotation_term.csv",
              ["label", "name", "cluster_annotation_term_set_label", "parent_term_label", "parent_term_set_label",
               "term_set_order", "term_order", "cluster_annotation_term_set_name", "color_hex_triplet"],
              [[label, name, level, parent, parent_set[level], "0", str(i), level.rsplit("_", 1)[1].lower(), "#000000"]
               for i, (label, name, level, parent) in enumerate(upper + clusters)])  # fmt: skip
    memberships = []
    for alias, (cluster, *_rest) in zip(aliases, clusters, strict=True):
        for label, level in ((cluster, "CCN20230504_CLUS"), ("CCN20230504_SUPT_0001", "CCN20230504_SUPT"),
                             ("CCN20230504_SUBC_001", "CCN20230504_SUBC"), ("CCN20230504_CLAS_01", "CCN20230504_CLAS")):  # fmt: skip
            memberships.append([label, level, alias])
    write_csv(folder / "cluster_to_cluster_annotation_membership.csv",
              ["cluster_annotation_term_label", "cluster_annotation_term_set_label", "cluster_alias"], memberships)  # fmt: skip
    return aliases
