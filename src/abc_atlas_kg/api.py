"""The Python API: what `abc-kg` does, for notebooks and scripts, over one frozen `BuildOptions`.

    import abc_atlas_kg as kg

    built = kg.build("WMB-taxonomy")                      # the bundled sample, SHACL-checked, nothing written
    built.terms                                           # a pandas DataFrame, one row per cell set
    built.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    kg.export("WMB-taxonomy", source="../shared/samples/abc-bucket", out="output")

Every function takes the options as a `BuildOptions` and/or as keyword arguments naming its fields (`source`,
`release`, `base_iri`, `kg_iri`, `validate`, `shapes`, `fetch`, `integration`, `layers`); the keywords win. Errors
are the classes of `abc_atlas_kg.errors`, as the command line reports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from . import jobs
from .build import BuildOptions
from .build import Built as BuiltRelease
from .build import build as build_release
from .errors import (
    AbcKgError,
    ExportFailures,
    FetchError,
    InputError,
    NotConformingError,
    OutputError,
    Problem,
    StoreError,
    UsageError,
)
from .rdf.formats import serialized
from .source.bucket.settings import Settings as FetchSettings
from .source.integration import IntegrationSettings

if TYPE_CHECKING:
    import pandas
    import rdflib

    from .registry import TaxonomySpec
    from .store import LoadSummary
    from .validate.run import Report

__all__ = [
    "AbcKgError",
    "BuildOptions",
    "Built",
    "ExportFailures",
    "FetchError",
    "FetchSettings",
    "InputError",
    "IntegrationSettings",
    "NotConformingError",
    "OutputError",
    "Problem",
    "StoreError",
    "UsageError",
    "build",
    "export",
    "export_many",
    "load",
    "load_many",
    "taxonomies",
    "validate",
]

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def options_of(options: BuildOptions | None, changes: dict[str, Any]) -> BuildOptions:
    """`options` (default: all defaults) with the named fields replaced; paths may be given as strings."""
    known = {f.name for f in fields(BuildOptions)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise UsageError(f"unknown build option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for name in ("source", "shapes"):
        if isinstance(changes.get(name), str):
            changes[name] = Path(changes[name])
    if isinstance(changes.get("integration"), str | Path):
        changes["integration"] = IntegrationSettings(folder=Path(changes["integration"]))
    if changes.get("layers") is not None:
        changes["layers"] = tuple(changes["layers"])
    return replace(options or BuildOptions(), **changes)


@dataclass(frozen=True)
class Built(BuiltRelease):
    """One validated release (see `build.Built`), with the views a notebook wants: quads, tables, queries."""

    def quads(self) -> list[ox.Quad]:
        """Every document's triples in its own named graph (release, mappings, layers), as pyoxigraph quads."""
        return [ox.Quad(t.subject, t.predicate, t.object, d.graph) for d in self.documents for t in d.triples]

    def dataset(self) -> rdflib.Dataset:
        """The same quads as an rdflib `Dataset` (made on request: rdflib is slow on big graphs)."""
        import rdflib

        data = serialized(self.quads(), ox.RdfFormat.N_QUADS)
        return rdflib.Dataset().parse(data=data, format="nquads")

    @property
    def terms(self) -> pandas.DataFrame:
        """One row per cell set: label, name, level, parent, colour, order, cell count, description, species."""
        return _frame(self.taxonomy.terms, "Term")

    @property
    def clusters(self) -> pandas.DataFrame:
        """One row per leaf cluster: alias, label, cell count, and one column per statistic (typed)."""
        import pandas

        rows = []
        for cluster in self.taxonomy.clusters:
            row: dict[str, Any] = {"alias": cluster.alias, "label": cluster.label, "cell_count": cluster.cell_count}
            row.update({s.property: _typed(s.value, s.datatype) for s in cluster.statistics})
            rows.append(row)
        return pandas.DataFrame(rows, columns=None if rows else ["alias", "label", "cell_count"])

    @property
    def memberships(self) -> pandas.DataFrame:
        """One row per (cluster, cell set) membership, at every level and facet."""
        return _frame(self.taxonomy.memberships, "Membership")

    @cached_property
    def _store(self) -> ox.Store:
        store = ox.Store()
        store.bulk_extend(self.quads())
        return store

    def query(self, sparql: str) -> pandas.DataFrame | bool | list[ox.Triple]:
        """SPARQL over the release's graphs (their union is the default graph; the export's prefixes are declared).

        SELECT gives a DataFrame (IRIs as strings, literals as Python values, unbound as None), ASK a bool,
        CONSTRUCT and DESCRIBE a list of pyoxigraph triples.
        """
        import pandas

        from .store.binding import with_prefixes

        try:
            answer = self._store.query(with_prefixes(sparql), use_default_graph_as_union=True)
        except SyntaxError as err:
            raise UsageError(f"the query does not parse: {err}") from None
        if isinstance(answer, ox.QueryBoolean):
            return bool(answer)
        if isinstance(answer, ox.QuerySolutions):
            names = [v.value for v in answer.variables]
            return pandas.DataFrame([[_value(s[n]) for n in names] for s in answer], columns=names)
        return list(answer)


def _frame(records: Sequence[Any], kind: str) -> pandas.DataFrame:
    import dataclasses

    import pandas

    from .model import taxonomy as model

    columns = [f.name for f in dataclasses.fields(getattr(model, kind))]
    return pandas.DataFrame([dataclasses.astuple(r) for r in records], columns=columns)


def _typed(value: str, datatype: str) -> Any:
    if datatype == "integer":
        return int(value)
    if datatype == "double":
        return float(value.replace("INF", "inf"))
    return value


def _value(term: Term | ox.Triple | None) -> Any:
    """A result cell as a Python value: IRIs as strings, numbers and booleans as themselves, blank nodes as _:id."""
    if term is None or isinstance(term, ox.NamedNode):
        return None if term is None else term.value
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value.rsplit("#", 1)[-1]
        if datatype in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger"):
            return int(term.value)
        if datatype in ("double", "float", "decimal"):
            return float(term.value.replace("INF", "inf"))
        if datatype == "boolean":
            return term.value in ("true", "1")
        return term.value
    return str(term)


# --- one taxonomy and many --------------------------------------------------------------------------------------


def build(taxonomy: str, options: BuildOptions | None = None, /, **changes: Any) -> Built:
    """One release built and (by default) SHACL-checked, in memory: nothing is written."""
    built = build_release(taxonomy, options_of(options, changes))
    return Built(**{f.name: getattr(built, f.name) for f in fields(BuiltRelease)})


def export(
    taxonomy: str,
    options: BuildOptions | None = None,
    /,
    *,
    out: str | Path = "output",
    formats: Sequence[str] | None = None,
    **changes: Any,
) -> list[Path]:
    """Build and write `<out>/<taxonomy>/<release>/<accession>.{ttl,jsonld,nt,nq}` (and side files); the paths."""
    return jobs.export(taxonomy, options_of(options, changes), Path(out), formats).files


def export_many(
    taxonomies: Iterable[str],
    options: BuildOptions | None = None,
    /,
    *,
    out: str | Path = "output",
    formats: Sequence[str] | None = None,
    processes: int | None = None,
    **changes: Any,
) -> list[Path]:
    """Export several taxonomies (in `processes` worker processes, default one per core); every path written.

    A failing taxonomy does not stop the others; at the end an ExportFailures names every one that failed.
    """
    outcomes = list(jobs.export_many(list(taxonomies), options_of(options, changes), Path(out), formats, processes))
    failures = [outcome for outcome in outcomes if outcome.error is not None]
    if failures:
        raise ExportFailures(failures)
    return [path for outcome in outcomes for path in outcome.files]


def load(
    taxonomy: str | Path,
    options: BuildOptions | None = None,
    /,
    *,
    store: str | Path | None = None,
    endpoint: str | None = None,
    vocabulary: bool = True,
    **changes: Any,
) -> LoadSummary:
    """Build a taxonomy (or read an RDF file, given as a Path) and load it into a store, as `abc-kg load` does."""
    return load_many([taxonomy], options, store=store, endpoint=endpoint, vocabulary=vocabulary, **changes)


def load_many(
    items: Iterable[str | Path],
    options: BuildOptions | None = None,
    /,
    *,
    store: str | Path | None = None,
    endpoint: str | None = None,
    graph: str | None = None,
    vocabulary: bool = True,
    **changes: Any,
) -> LoadSummary:
    """Taxonomies (strings: built) and RDF files (Paths: read) into the embedded store at `store` (default: the
    user's, or $ABC_KG_STORE) or the Graph Store Protocol `endpoint`, one named graph each."""
    from . import store as stores

    chosen = list(items)
    target = stores.open_target(
        Path(store) if store is not None else None,
        endpoint,
        credentials=stores.credentials_from_env() if endpoint else None,
    )
    try:
        taxonomies = [item for item in chosen if isinstance(item, str)]
        files = [item for item in chosen if isinstance(item, Path)]
        return jobs.load_many(target, taxonomies, options_of(options, changes), files, graph, vocabulary)
    finally:
        target.close()


def validate(
    data: str | Path | BuiltRelease | Iterable[ox.Triple | ox.Quad],
    shapes: str | Path | None = None,
    engine: str = "sparql",
) -> Report:
    """Check an RDF file, a build or triples against the shapes (default: the project's); a `Report`."""
    from .store.inputs import read_rdf
    from .validate import run

    chosen = Path(shapes) if shapes is not None else None
    if isinstance(data, BuiltRelease):  # each graph on its own, as the build's gate (and a store) sees it
        reports = [run.validate(document.triples, chosen, engine) for document in data.documents]
        return run.Report(all(r.conforms for r in reports), [v for r in reports for v in r.violations])
    triples = read_rdf(Path(data)) if isinstance(data, str | Path) else data
    return run.validate(triples, chosen, engine)


def taxonomies() -> dict[str, TaxonomySpec]:
    """Every taxonomy abc-kg knows (the registry, plus the file named by $ABC_KG_REGISTRY), by id."""
    from . import registry

    return registry.taxonomies()
