"""How often following one release from the CLI through the build returns to a source file it has left.

Read the code as a newcomer would: start at the command, and follow each function the first time it is called
(a call to a function already read is not followed again), returning to the caller when it ends. The files along
that reading path, consecutive repeats merged, are the "moves"; a file that appears again after the path has left
it is a return. Module bodies (imports) are not followed. Only the main thread is traced (the SHACL gate's thread
is not part of the path). Run it with the code to measure on the path (e.g. PYTHONPATH=/tmp/old/src for an older
checkout):

    python bench/revisits.py [TAXONOMY] [SOURCE]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import abc_atlas_kg


def trace(argv: list[str]) -> tuple[list[str], list[str]]:
    """The reading path, as package-relative file names, and the files entered by a call again after being left.

    A return to the caller when a callee ends is the path going back to where it came from; a call into a file that
    is not on the stack but was read before sends the reader back to a file already left.
    """
    package = os.path.dirname(abc_atlas_kg.__file__) + os.sep
    seen: set[object] = set()
    stack: list[tuple[object, str | None]] = []  # (frame, file, or None when not followed)
    path: list[str] = []
    reentered: list[str] = []
    stage_calls: list[tuple[str, str, frozenset[str]]] = []  # (file, function, files on the stack) of each call

    def visit(name: str) -> None:
        if not path or path[-1] != name:
            path.append(name)

    def profile(frame, event, _arg):  # type: ignore[no-untyped-def]
        if event not in ("call", "return"):
            return
        code = frame.f_code
        if event == "call":
            followed = stack[-1][1] is not None if stack else True
            inside = code.co_filename.startswith(package)
            if not inside or not followed or code in seen or code.co_name == "<module>":
                stack.append((frame, None if (inside or not followed) else "outside"))
                return
            seen.add(code)
            name = code.co_filename[len(package) :]
            on_stack = {n for _, n in stack}
            stage_calls.append((name, code.co_qualname, frozenset(n for n in on_stack if n not in (None, "outside"))))
            if name in path and name not in on_stack:
                reentered.append(name)
                if os.environ.get("REVISITS_VERBOSE"):
                    caller = next((n for _, n in reversed(stack) if n not in (None, "outside")), "?")
                    print(f"  again: {caller} -> {name}:{code.co_qualname}", file=sys.stderr)
            stack.append((frame, name))
            visit(name)
        elif stack and stack[-1][0] is frame:
            _, name = stack.pop()
            if name is not None and name != "outside":
                caller = next((n for _, n in reversed(stack) if n not in (None, "outside")), None)
                if caller is not None:
                    visit(caller)

    from abc_atlas_kg.cli import main

    sys.setprofile(profile)
    try:
        main(argv, standalone_mode=False)
    finally:
        sys.setprofile(None)
    trace.stage_calls = stage_calls  # type: ignore[attr-defined]
    return path, reentered


# The stages of the pipeline by file: a folder, or a top-level module. Shared helpers (the foundation: errors,
# defaults, files, RDF terms and prefixes) serve every stage and are not counted as places the path goes back to.
FOUNDATION = {"errors", "defaults", "resources", "fileio", "rdf", "__init__", "__version__"}
OLD_STAGES = {  # the flat layout before issue 20 (f71809d), grouped as its architecture test grouped it
    **dict.fromkeys(["vocab", "prefixes", "formats", "files", "http", "context"], "foundation"),
    **dict.fromkeys(["locate", "fetch", "source"], "source"),
    **dict.fromkeys(["model", "adapters", "links"], "model"),
    **dict.fromkeys(["convert", "sssom"], "convert"),
    **dict.fromkeys(["validate", "shacl_sparql"], "validate"),
    "pipeline": "build",
    "write": "files",
}


def stage(name: str) -> str:
    top = name.split("/")[0].removesuffix(".py")
    top = OLD_STAGES.get(top, top)
    return "foundation" if top in FOUNDATION else top


def stage_returns(path: list[str]) -> Counter[str]:
    """Per stage, how often the path comes back to it after having gone to another stage (foundation aside)."""
    stages = [s for s in (stage(name) for name in path) if s != "foundation"]
    merged = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    return Counter({s: n - 1 for s, n in Counter(merged).items() if n > 1})


def stage_reentries(calls: list[tuple[str, str, frozenset[str]]], by_file: bool = False) -> list[str]:
    """Calls of a stage's functions (module level: not methods of the data objects a stage hands on) that send the
    path back into a stage (or, `by_file`, a file) it had entered and left before; the shared foundation aside."""
    entered: set[str] = set()
    again = []
    for name, function, on_stack in calls:
        here = name if by_file else stage(name)
        if stage(name) == "foundation" or "." in function or "<" in function:
            continue
        stack = on_stack if by_file else {stage(n) for n in on_stack}
        if here in entered and here not in stack:
            again.append(f"{here} ({name}:{function})")
        entered.add(here)
    return again


def main() -> None:
    taxonomy = sys.argv[1] if len(sys.argv) > 1 else "WMB-taxonomy"
    source = (
        sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).parents[1] / "tests" / "fixtures" / "wmb-complete")
    )
    with tempfile.TemporaryDirectory() as out:
        path, reentered = trace(
            ["-q", "export", taxonomy, "--source", source, "--out", out, "--format", "nt", "--jobs", "1"]
        )
    visits = Counter(path)
    returns = {name: n - 1 for name, n in visits.items() if n > 1}
    print(f"{len(path) - 1} moves across {len(visits)} files; returns to a file left before, per file:")
    for name, n in sorted(returns.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {n:3}  {name}")
    print(f"most returns to one file: {max(returns.values(), default=0)}")
    again = Counter(reentered)
    print(f"files called into again after the path had left them: {len(reentered)} calls")
    for name, n in sorted(again.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {n:3}  {name}")
    print(f"most re-entries of one file: {max(again.values(), default=0)}")
    by_stage = stage_returns(path)
    print(
        "returns to a stage the path had left (the stage path: "
        + " -> ".join(
            s
            for i, s in enumerate(x for x in map(stage, path) if x != "foundation")
            if i == 0 or [x for x in map(stage, path) if x != "foundation"][i - 1] != s
        )
        + "):"
    )
    for name, n in sorted(by_stage.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {n:3}  {name}")
    again_stages = stage_reentries(trace.stage_calls)  # type: ignore[attr-defined]
    print("stage functions calling the path back into a stage it had left:")
    for line in again_stages:
        print(f"  {line}")
    counted = Counter(line.split(" ")[0] for line in again_stages)
    print(f"most returns to one stage: {max(counted.values(), default=0)} ({dict(counted)})")
    files = Counter(line.split(" ")[0] for line in stage_reentries(trace.stage_calls, by_file=True))  # type: ignore[attr-defined]
    print(f"most returns to one file (stage functions): {max(files.values(), default=0)} ({dict(files)})")


if __name__ == "__main__":
    main()
