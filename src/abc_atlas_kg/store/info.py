"""`abc-kg info`: what an export or a store holds — graphs, taxonomies, releases, counts per class and per level.

Everything is asked by SPARQL of a store: files are first staged into a scratch store exactly as `load` would
place them, so `info FILE` shows the graphs a load of FILE would create.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..rdf.vocab import AKG, DCAT, OBO, RDF_TYPE, RDFS
from . import results
from .target import Target, staged_inputs

_PER_GRAPH = {
    "triples": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "taxonomies": f"SELECT DISTINCT ?g ?t ?label ?version WHERE {{ GRAPH ?g {{ ?t <{RDF_TYPE}> <{OBO}PCL_0010002> "
    f"OPTIONAL {{ ?t <{RDFS}label> ?label }} OPTIONAL {{ ?r <{DCAT}isVersionOf> ?t ; <{DCAT}version> ?version }} }} }}",
    "releases": f"SELECT DISTINCT ?g ?r ?version WHERE {{ GRAPH ?g {{ ?r <{DCAT}version> ?version }} }}",
    "classes": f"SELECT ?g ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?class }} }} "
    "GROUP BY ?g ?class",
    "levels": f"SELECT ?g ?level (COUNT(DISTINCT ?t) AS ?n) WHERE {{ GRAPH ?g {{ ?t <{AKG}level> ?l . "
    f"OPTIONAL {{ ?l <{RDFS}label> ?name }} BIND(COALESCE(?name, STR(?l)) AS ?level) }} }} GROUP BY ?g ?level",
}


def _value(term: results.Cell) -> Any:
    if term is None:
        return None
    return results.json_value(term, results.Style(full_iris=True))


def _rows(target: Target | ox.Store, query: str) -> list[dict[str, Any]]:
    if isinstance(target, ox.Store):
        answer = results.materialise(target.query(query), "scratch store")
    else:
        answer = target.query(query)
    assert isinstance(answer, results.Solutions)
    return [dict(zip(answer.variables, map(_value, row), strict=True)) for row in answer.rows]


def describe(target: Target | ox.Store, origin: str) -> dict[str, Any]:
    """The description of everything in a store, graph by graph."""
    graphs: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        return graphs.setdefault(name, {"graph": name, "triples": 0, "taxonomies": [], "releases": [],
                                        "classes": {}, "levels": {}})  # fmt: skip

    for row in _rows(target, _PER_GRAPH["triples"]):
        entry(row["g"])["triples"] = row["n"]
    for row in _rows(target, _PER_GRAPH["taxonomies"]):
        entry(row["g"])["taxonomies"].append({"iri": row["t"], "label": row["label"], "version": row["version"]})
    for row in _rows(target, _PER_GRAPH["releases"]):
        entry(row["g"])["releases"].append({"iri": row["r"], "version": row["version"]})
    for row in _rows(target, _PER_GRAPH["classes"]):
        entry(row["g"])["classes"][row["class"]] = row["n"]
    for row in _rows(target, _PER_GRAPH["levels"]):
        entry(row["g"])["levels"][row["level"]] = row["n"]
    ordered = [graphs[g] for g in sorted(graphs)]
    for graph in ordered:
        graph["classes"] = dict(sorted(graph["classes"].items()))
        graph["levels"] = dict(sorted(graph["levels"].items()))
    return {"source": origin, "graphs": ordered, "triples": sum(g["triples"] for g in ordered)}


def info(files: Sequence[Path] = (), target: Target | None = None, graph: str | None = None) -> dict[str, Any]:
    """What FILEs (as `load` would place them, `graph` = --graph) or a store hold, as a JSON-ready dict."""
    if target is not None:
        return describe(target, target.description)
    with staged_inputs(Path(tempfile.mkdtemp(prefix="abc-kg-info-")), files=files, graph=graph) as staged:
        view = ox.Store()
        for entry in staged:
            node = ox.NamedNode(entry.graph)
            view.extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in entry.triples())
        return describe(view, ", ".join(str(f) for f in files))


def render_json(description: dict[str, Any]) -> str:
    return json.dumps(description, ensure_ascii=False, indent=1) + "\n"


def render_table(description: dict[str, Any], style: results.Style | None = None) -> str:
    """A readable summary: one block per graph with its taxonomies, releases, classes and levels."""
    style = style or results.Style()
    lines = [f"{description['source']}: {len(description['graphs'])} graph(s), {description['triples']:,} triples"]
    for graph in description["graphs"]:
        lines.append(f"\n{graph['graph']}  {graph['triples']:,} triples")
        for taxonomy in graph["taxonomies"]:
            version = f" release {taxonomy['version']}" if taxonomy["version"] else ""
            lines.append(f"  taxonomy {style.iri(taxonomy['iri'])}{version}  {taxonomy['label'] or ''}".rstrip())
        for release in graph["releases"]:
            lines.append(f"  release  {style.iri(release['iri'])}  version {release['version']}")
        if graph["levels"]:
            lines.append("  terms per level: " + ", ".join(f"{k} {v:,}" for k, v in graph["levels"].items()))
        width = max((len(style.iri(c)) for c in graph["classes"]), default=0)
        for cls, n in graph["classes"].items():
            lines.append(f"  {style.iri(cls).ljust(width)}  {n:>9,}")
    return "\n".join(lines) + "\n"
