"""Property test: random valid taxonomies, hostile names and labels included, export, conform, parse back in
every format and round-trip by SPARQL."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FORMATS, load_store, run, select
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow  # hypothesis-made inputs

RELEASE = Path("metadata/WMB-taxonomy/20231215")
LEVELS = [("CCN20230722_CLAS", "class"), ("CCN20230722_SUBC", "subclass"), ("CCN20230722_SUPT", "supertype")]
TERM_COLUMNS = [
    "label",
    "name",
    "cluster_annotation_term_set_label",
    "parent_term_label",
    "parent_term_set_label",
    "term_set_order",
    "term_order",
    "cluster_annotation_term_set_name",
    "color_hex_triplet",
]

# Anything a spreadsheet can hold, but NUL (which CSV cannot carry) and lone surrogates (which UTF-8 cannot);
# cells are stripped on reading, so generated text is stripped too.
hostile = (
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
special = st.sampled_from(
    [
        "NA",
        'a "quoted" name',
        "<tag>",
        "{x}",
        "back\\slash",
        "#hash",
        "Ünïcødé",
        "tab\there",
        "line\nbreak",
        "semi;colon,comma",
    ]
)
name = st.one_of(hostile, special)
colour = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}" if n % 2 else f"#{n:06X}")


@st.composite
def taxonomies(draw: st.DrawFn) -> dict:  # type: ignore[type-arg]
    sizes = [draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))]
    labels = draw(
        st.lists(
            st.one_of(hostile, st.from_regex(r"CS_[A-Z]{2}_[0-9]{3}", fullmatch=True)),
            min_size=sum(sizes) + 2,
            max_size=sum(sizes) + 2,
            unique=True,
        )
    )
    terms, previous = [], []
    for (set_label, set_name), size in zip(LEVELS, sizes, strict=True):
        current = []
        for i in range(size):
            parent = previous[i % len(previous)] if previous else None
            terms.append(
                {
                    "label": labels.pop(),
                    "name": draw(name),
                    "cluster_annotation_term_set_label": set_label,
                    "parent_term_label": parent["label"] if parent else "",
                    "parent_term_set_label": parent["cluster_annotation_term_set_label"] if parent else "",
                    "term_set_order": LEVELS.index((set_label, set_name)) + 1,
                    "term_order": draw(st.integers(0, 9999)),
                    "cluster_annotation_term_set_name": set_name,
                    "color_hex_triplet": draw(colour),
                }
            )
            current.append(terms[-1])
        previous = current
    facets = [
        {
            "label": labels.pop(),
            "name": draw(name),
            "cluster_annotation_term_set_label": "CCN20230722_NEUR",
            "parent_term_label": "",
            "parent_term_set_label": "",
            "term_set_order": 0,
            "term_order": i,
            "cluster_annotation_term_set_name": "neurotransmitter",
            "color_hex_triplet": draw(colour),
        }
        for i in range(2)
    ]
    return {"terms": facets + terms, "leaves": previous, "facets": facets}


def write_tables(root: Path, taxonomy: dict) -> None:  # type: ignore[type-arg]
    folder = root / RELEASE
    folder.mkdir(parents=True)
    with (folder / "cluster_annotation_term_set.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["label", "name", "description", "order"])
        out.writerow(["CCN20230722_NEUR", "neurotransmitter", "", 0])
        for rank, (label, level_name) in enumerate(LEVELS, start=1):
            out.writerow([label, level_name, "", rank])
    with (folder / "cluster_annotation_term.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, TERM_COLUMNS)
        out.writeheader()
        out.writerows(taxonomy["terms"])
    by_label = {t["label"]: t for t in taxonomy["terms"]}
    with (folder / "cluster_to_cluster_annotation_membership.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["cluster_annotation_term_label", "cluster_alias"])
        for alias, leaf in enumerate(taxonomy["leaves"]):
            node = leaf
            while node:
                out.writerow([node["label"], alias])
                node = by_label.get(node["parent_term_label"])
            out.writerow([taxonomy["facets"][alias % 2]["label"], alias])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(taxonomies())
def test_random_taxonomies_round_trip(taxonomy: dict) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        root, out = Path(tmp) / "bucket", Path(tmp) / "out"
        write_tables(root, taxonomy)
        result = run("export", "WMB-taxonomy", "--source", root, "--out", out)
        assert result.exit_code == 0, result.stderr
        folder = out / "WMB-taxonomy" / "20231215"
        parsed = {}
        for fmt in FORMATS:
            path = folder / f"CCN20230722.{fmt}"
            parsed[fmt] = {(q.subject, q.predicate, q.object) for q in ox.parse(path=str(path))}
            assert run("validate", path).exit_code == 0
        assert parsed["ttl"] == parsed["nt"] == parsed["nq"] == parsed["jsonld"]
        store = load_store(folder / "CCN20230722.nt")
        found = {
            r["label"]: r
            for r in select(
                store,
                """SELECT ?label ?name ?level ?parent ?colour ?order WHERE {
                ?t skos:notation ?label ; rdfs:label ?name ; akg:level/skos:notation ?level ; akg:color ?colour ;
                   akg:order ?order . OPTIONAL { ?t skos:broader/skos:notation ?parent } }""",
            )
        }
        assert len(found) == len(taxonomy["terms"])
        for term in taxonomy["terms"]:
            row = found[term["label"]]
            assert (row["name"], row["level"], row.get("parent", ""), row["colour"], row["order"]) == (
                term["name"],
                term["cluster_annotation_term_set_label"],
                term["parent_term_label"],
                term["color_hex_triplet"],
                str(term["term_order"]),
            )
        memberships = select(store, "SELECT ?c ?t WHERE { ?c akg:memberOf ?t }")
        assert len(memberships) == len(taxonomy["leaves"]) * (len(LEVELS) + 1)
