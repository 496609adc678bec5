"""The package's import graph follows the pipeline: every import points down it, sinks never reach back into the
build, and there is no cycle. Imports inside functions (the lazy ones that keep `--help` fast) count too."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import abc_atlas_kg

PACKAGE = Path(abc_atlas_kg.__file__).parent

# The package's folders and top-level modules in pipeline order; a module may import modules of its own stage or of
# an earlier one. Every folder and module of the package must be listed (test_the_stages_are_the_folders), so a new
# one has to be placed. The package itself ("", its __init__) comes last: its public names are the API's, imported
# on first use; only its `__version__`, which it defines without importing anything, may be imported by every stage.
STAGES = [
    ("foundation", {"errors", "defaults", "resources", "fileio", "rdf"}),
    ("registry", {"registry"}),
    ("source", {"source"}),
    ("model", {"model"}),
    ("convert", {"convert"}),
    ("validate", {"validate"}),
    ("build", {"build"}),
    ("sinks", {"files", "store"}),
    ("jobs", {"jobs", "api"}),
    ("command line", {"cli", "__main__"}),
    ("public face", {""}),
]
SINKS = {"files", "store"}  # they consume what the build produced and import nothing of it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The package's own modules that `path` imports, anywhere in it (relative imports only, as the package uses)."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py", path)


def imports_in(text: str, module: str, is_package: bool, where: object = "") -> set[str]:
    parts = module.split(".") if module else []  # the package's own __init__ is ""
    here = parts if is_package else parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            if node.module:
                found.add(".".join([*base, *node.module.split(".")]))
            else:
                found |= {".".join([*base, alias.name]) for alias in node.names}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert not any((n or "").startswith("abc_atlas_kg") for n in names), f"{where}: use relative imports"
    return {name for name in found if name != "__version__"}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in PACKAGE.rglob("*.py")}


def stage_of(module: str) -> int:
    top = module.split(".")[0]
    for rank, (_, members) in enumerate(STAGES):
        if top in members:
            return rank
    raise AssertionError(f"module {module!r} belongs to no stage: add it to STAGES")


def test_the_import_graph_has_no_cycle() -> None:
    try:
        list(TopologicalSorter(graph()).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from None


def backwards(modules: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({STAGES[stage_of(module)][0]}) imports {target} ({STAGES[stage_of(target)][0]})"
        for module, targets in modules.items()
        for target in targets
        if stage_of(target) > stage_of(module)
    ]


def test_no_module_imports_a_later_stage() -> None:
    assert backwards(graph()) == []


def test_sinks_import_nothing_of_the_build() -> None:
    foundation = STAGES[0][1]
    reaching_back = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module.split(".")[0] in SINKS
        for target in targets
        if target.split(".")[0] not in foundation | {module.split(".")[0]}
    ]
    assert reaching_back == []


def test_every_module_has_a_stage() -> None:
    for module in graph():
        stage_of(module)


def test_the_stages_are_the_folders() -> None:
    """Each stage is a folder (or one top-level module) of the package: `ls src/abc_atlas_kg` shows the pipeline."""
    on_disk = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    on_disk |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    staged = set().union(*(members for _, members in STAGES)) - {""}
    assert on_disk <= staged, f"not placed in STAGES: {sorted(on_disk - staged)}"


def test_an_upward_import_is_caught() -> None:
    """The check itself can fail: a source module importing the build, even inside a function, is reported, and so
    is a stage importing the package's public face (anything but its __version__)."""
    probe = "from .. import __version__\n\ndef f():\n    from ..build import build\n    from .. import api\n"
    found = backwards({**graph(), "source.probe": imports_in(probe, "source.probe", is_package=False)})
    assert sorted(found) == ["source.probe (source) imports api (jobs)", "source.probe (source) imports build (build)"]
    assert backwards({"errors": {""}}) == ["errors (foundation) imports  (public face)"]
