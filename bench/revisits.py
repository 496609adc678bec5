"""How often following one release from the CLI through the build goes back to a stage or a file it has left.

Read the code as a newcomer would: start at the command, and follow each function the first time it is called
(a call to a function already read is not followed again), returning to the caller when it ends. Module bodies
(imports) are not followed, and only the main thread is traced (the SHACL gate's thread is not part of the path).

Three counts come out, per file or stage:
- returns: how often the path (files at the top of that reading stack, repeats merged) comes back to a file it
  left, by calls and by returns to the caller alike (an orchestrator such as build.py is returned to after every
  stage it runs);
- re-entries: calls into a file already read and left (not on the stack);
- stage re-entries: calls of a stage's own functions (module level: not methods of the data objects a stage hands
  on, such as a Table's rows) that send the path back into a stage, or a file, it had left; the shared foundation
  (errors, defaults, file I/O, RDF terms and prefixes) serves every stage and is not counted.

Run it with the code to measure on the path (PYTHONPATH=/tmp/old/src for an older checkout):

    python bench/revisits.py [TAXONOMY] [SOURCE]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import abc_atlas_kg

FOUNDATION = {"errors", "defaults", "resources", "fileio", "rdf", "__init__"}
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
    """The stage of a package-relative file: its folder, or its module; the foundation as one."""
    top = name.split("/")[0].removesuffix(".py")
    top = OLD_STAGES.get(top, top)
    return "foundation" if top in FOUNDATION else top


@dataclass
class Reading:
    """What the reading path went through."""

    files: list[str] = field(default_factory=list)  # files at the top of the stack, repeats merged
    reentered: list[str] = field(default_factory=list)  # files called into again after being left
    calls: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)  # (file, function, files on stack)


def trace(argv: list[str]) -> Reading:
    package = os.path.dirname(abc_atlas_kg.__file__) + os.sep
    seen: set[object] = set()
    stack: list[tuple[FrameType, str | None]] = []  # (frame, file when followed)
    followed = Reading()

    def visit(name: str) -> None:
        if not followed.files or followed.files[-1] != name:
            followed.files.append(name)

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        code = frame.f_code
        if event == "call":
            reading = not stack or stack[-1][1] is not None
            if not code.co_filename.startswith(package) or not reading or code in seen or code.co_name == "<module>":
                stack.append((frame, None if not reading or code.co_filename.startswith(package) else ""))
                return
            seen.add(code)
            name = code.co_filename[len(package) :]
            on_stack = frozenset(n for _, n in stack if n)
            if name in followed.files and name not in on_stack:
                followed.reentered.append(name)
            followed.calls.append((name, code.co_qualname, on_stack))
            stack.append((frame, name))
            visit(name)
        elif event == "return" and stack and stack[-1][0] is frame:
            _, name = stack.pop()
            caller = next((n for _, n in reversed(stack) if n), None)
            if name and caller:
                visit(caller)

    from abc_atlas_kg.cli import main

    sys.setprofile(profile)
    try:
        main(argv, standalone_mode=False)
    finally:
        sys.setprofile(None)
    return followed


def stage_reentries(calls: list[tuple[str, str, frozenset[str]]], by_file: bool = False) -> Counter[str]:
    """Per stage (or file), the calls of stage functions that send the path back into it after it was left."""
    entered: set[str] = set()
    again: Counter[str] = Counter()
    for name, function, on_stack in calls:
        if stage(name) == "foundation" or "." in function or "<" in function:
            continue
        here = name if by_file else stage(name)
        if here in entered and here not in (on_stack if by_file else {stage(n) for n in on_stack}):
            again[here] += 1
        entered.add(here)
    return again


def show(title: str, counts: Counter[str]) -> None:
    print(f"{title}: most {max(counts.values(), default=0)}")
    for name, n in counts.most_common():
        print(f"  {n:3}  {name}")


def main() -> None:
    taxonomy = sys.argv[1] if len(sys.argv) > 1 else "WMB-taxonomy"
    source = (
        sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).parents[1] / "tests" / "fixtures" / "wmb-complete")
    )
    with tempfile.TemporaryDirectory() as out:
        followed = trace(["-q", "export", taxonomy, "--source", source, "--out", out, "--format", "nt", "--jobs", "1"])
    visits = Counter(followed.files)
    print(f"{len(followed.files) - 1} moves across {len(visits)} files")
    show("returns to a file", Counter({name: n - 1 for name, n in visits.items() if n > 1}))
    show("re-entries of a file", Counter(followed.reentered))
    show("stage re-entries, by stage", stage_reentries(followed.calls))
    show("stage re-entries, by file", stage_reentries(followed.calls, by_file=True))


if __name__ == "__main__":
    main()
