"""Running compiled shapes: the data loaded into an in-memory Oxigraph store, the focus graph filled, the checks
run on two threads (Oxigraph evaluates without the GIL), and each solution turned into a pyshacl-like result."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pyoxigraph as ox

from .compile import Check, Plan
from .shapes import SH, SUBCLASS_OF, ShapesGraph, Term, path_name, shape_label

T = TypeVar("T")
R = TypeVar("R")
QUERY_THREADS = 2  # Oxigraph evaluates without the GIL: the checks share the cores
LOAD_BATCH = 20_000  # triples per N-Triples batch loaded into the store (about 3 MB of text)


@dataclass(frozen=True)
class Result:
    """One validation result, the same fields pyshacl reports."""

    focus: Term
    path: str | None  # the IRI for a predicate path, else the SPARQL property path
    value: Term | None
    severity: str  # local name: Violation, Warning, Info
    source_shape: str
    component: str  # local name of the sh:*ConstraintComponent
    messages: tuple[str, ...]
    shape_has_message: bool  # messages come from the shapes (comparable), not generated here


def load(triples: Iterable[ox.Triple | ox.Quad] | ox.Store, predicates: frozenset[str] | None) -> ox.Store:
    """An in-memory store with the triples (graph names dropped) the plan reads, bulk-loaded as N-Triples bytes."""
    if isinstance(triples, ox.Store):
        triples = triples.quads_for_pattern(None, None, None, None)
    plain = (t if isinstance(t, ox.Triple) else t.triple for t in triples)
    if predicates is not None:
        wanted = {ox.NamedNode(p) for p in predicates}
        plain = (t for t in plain if t.predicate in wanted)
    store = ox.Store()
    while batch := list(itertools.islice(plain, LOAD_BATCH)):  # bounded bytes: never the whole graph as text
        store.bulk_load(input=ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
    return store


def run(plan: Plan, data: ox.Store) -> Iterator[Result]:
    """Fill the focus graph, then run every check; the data store gains the focus graph."""
    g = plan.graph
    flat = not any(True for _ in data.quads_for_pattern(None, ox.NamedNode(SUBCLASS_OF), None, None))
    for update in plan.focus_updates:
        data.update(flatten(update) if flat else update)
    for results in _in_threads(lambda check: list(_results(g, check, data, flat)), plan.checks, QUERY_THREADS):
        yield from results


def _in_threads(function: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """`[function(item) for item in items]`, run by this thread and `threads - 1` daemon helpers.

    Not a ThreadPoolExecutor: its workers are not daemons and run every queued item before the interpreter may
    exit, so Ctrl-C would wait for all the remaining checks.
    """
    results: list[Any] = [None] * len(items)
    failures: list[BaseException] = []
    queue = iter(enumerate(items))
    lock = threading.Lock()

    def work() -> None:
        while not failures:
            with lock:
                index, item = next(queue, (-1, None))
            if index < 0:
                return
            try:
                results[index] = function(item)  # type: ignore[arg-type]
            except BaseException as err:
                failures.append(err)

    helpers = [threading.Thread(target=work, daemon=True, name="shacl-check") for _ in range(threads - 1)]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if failures:
        raise failures[0]
    return results


def flatten(query: str) -> str:
    """Without any rdfs:subClassOf triple in the data, `a/rdfs:subClassOf*` is `a`, which Oxigraph answers faster."""
    return query.replace(f"a/<{SUBCLASS_OF}>*", "a")


@dataclass(frozen=True)
class _Reported:
    """What every result of one check says the same way: from its shape and, for sh:sparql, its constraint."""

    severity: str
    messages: list[str]  # the shape's sh:message, then the SPARQL constraint's own ones
    path: Term | None
    path_name: str | None
    label: str

    @classmethod
    def of(cls, g: ShapesGraph, check: Check) -> _Reported:
        shape = check.shape
        severity = g.value(shape, SH + "severity")
        own = [m.value for m in g.objects(shape, SH + "message") if isinstance(m, ox.Literal)]
        extra = []
        if check.sparql_constraint is not None:
            extra = [m.value for m in g.objects(check.sparql_constraint, SH + "message") if isinstance(m, ox.Literal)]
        path = g.value(shape, SH + "path")
        return cls(
            severity.value.rsplit("#", 1)[-1] if severity is not None else "Violation",
            own + [m for m in extra if m not in own],
            path,
            path_name(g, path),
            shape_label(g, shape),
        )


def _results(g: ShapesGraph, check: Check, data: ox.Store, flat: bool) -> Iterator[Result]:
    reported = _Reported.of(g, check)
    seen = set()
    for solution in data.query(flatten(check.query) if flat else check.query):
        focus, result_path, value, bindings = _solution(check, reported, solution)
        key = (focus, result_path, value)
        if key in seen:
            continue
        seen.add(key)
        messages = [_format(m, bindings) for m in reported.messages]
        generated = not messages
        if generated:
            messages = [_generic_message(check, g)]
        yield Result(
            focus=focus,
            path=result_path,
            value=value,
            severity=reported.severity,
            source_shape=reported.label,
            component=check.component,
            messages=tuple(sorted(set(messages))),
            shape_has_message=not generated,
        )


def _solution(
    check: Check, reported: _Reported, solution: ox.QuerySolution
) -> tuple[Term, str | None, Term | None, dict[str, Term]]:
    """Focus node, path, value and the message template's bindings of one solution of a check's query."""
    focus = solution["this"]
    value = _bound(solution, "value")
    result_path = reported.path_name
    bindings: dict[str, Term] = {}
    if check.sparql_constraint is not None:
        bound_path = _bound(solution, "path")
        if bound_path is not None:
            result_path = bound_path.value if isinstance(bound_path, ox.NamedNode) else str(bound_path)
        if value is None and reported.path is None:
            value = focus
        bindings = {"this": focus, **({"value": value} if value is not None else {})}
        if bound_path is not None:
            bindings["path"] = bound_path
    elif check.component not in _WITH_VALUE:
        value = None
    return focus, result_path, value, bindings


_WITH_VALUE = {
    "ClassConstraintComponent", "DatatypeConstraintComponent", "NodeKindConstraintComponent",
    "InConstraintComponent", "PatternConstraintComponent", "MinInclusiveConstraintComponent",
    "MaxInclusiveConstraintComponent", "MinExclusiveConstraintComponent", "MaxExclusiveConstraintComponent",
    "MinLengthConstraintComponent", "MaxLengthConstraintComponent", "NodeConstraintComponent",
}  # fmt: skip


def _bound(solution: ox.QuerySolution, name: str) -> Term | None:
    try:
        return solution[name]
    except (KeyError, IndexError):
        return None


def _format(message: str, bindings: dict[str, Term]) -> str:
    """pyshacl's message templates: {?var} and {$var} become the bound value's string."""
    for name, value in bindings.items():
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _m, v=value: v.value, message)
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _m, v=value: v.value, message)
    return message


def _generic_message(check: Check, g: ShapesGraph) -> str:
    name = check.component.removesuffix("ConstraintComponent")
    parameter = g.value(check.shape, SH + name[0].lower() + name[1:])
    return f"{name} constraint not met" + (f" ({parameter})" if parameter is not None else "")
