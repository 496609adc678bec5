"""Benchmark the integration layers: the real WMB export with a layer beside the same export without it, in one run.

    python bench/layers.py                        # celltypes, 3 interleaved pairs, ../shared data
    python bench/layers.py --layer celltypes --runs 5 --source DIR --integration DIR

Each export is its own process (`abc-kg export WMB-taxonomy --source … --integration … --layers …`, four formats,
SHACL on), measured as bench/run.py measures (wall seconds, peak summed RSS of the process tree). The pairs are
interleaved (without, with, without, with …) so that a noisy machine slows both alike; the verdict takes the
median of each. Goal (issue 19): with the layer at most 1.3x the time, and within the memory goal (< 1.5 GB).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from run import abc_kg, measured

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "samples"
TIME_GOAL = 1.3
MEMORY_GOAL_MB = 1536


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def export(source: Path, integration: Path, layers: str, out: Path) -> tuple[float, float, float]:
    """Wall seconds, peak MB and CPU seconds (user + system, which other load on the machine disturbs less)."""
    before = cpu_of_children()
    wall, peak, _ = measured(
        abc_kg(
            "-q",
            "export",
            "WMB-taxonomy",
            "--source",
            source,
            "--integration",
            integration,
            "--layers",
            layers,
            "--out",
            out,
        )
    )
    return wall, peak, cpu_of_children() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", default="celltypes", help="the layer to measure (default: celltypes)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved pairs (default 3)")
    parser.add_argument("--source", type=Path, default=SHARED / "abc-bucket", help="the ABC bucket copy")
    parser.add_argument("--integration", type=Path, default=SHARED / "integration", help="the integration sources")
    args = parser.parse_args()
    if not (args.source / "metadata").is_dir() or not args.integration.is_dir():
        sys.exit(f"needs the real WMB release and sources: {args.source}, {args.integration}")
    times: dict[str, list[float]] = {"none": [], args.layer: []}
    peaks: dict[str, list[float]] = {"none": [], args.layer: []}
    cpus: dict[str, list[float]] = {"none": [], args.layer: []}
    with tempfile.TemporaryDirectory(prefix="abc-kg-bench-layers-") as scratch:
        for run in range(args.runs):
            for layers in ("none", args.layer):
                wall, peak, cpu = export(args.source, args.integration, layers, Path(scratch) / f"{layers}-{run}")
                times[layers].append(wall)
                peaks[layers].append(peak)
                cpus[layers].append(cpu)
                print(f"run {run + 1}: --layers {layers:<10} {wall:6.2f} s  {cpu:6.2f} s CPU  {peak:6.0f} MB",
                      file=sys.stderr)  # fmt: skip
    without, with_layer = statistics.median(times["none"]), statistics.median(times[args.layer])
    ratio = with_layer / without
    peak = max(peaks[args.layer])
    cpu_ratio = statistics.median(cpus[args.layer]) / statistics.median(cpus["none"])
    print("| export WMB 20231215 | median wall s | runs (wall s) | median CPU s | peak MB (tree) |")
    print("|---|---:|---|---:|---:|")
    for layers in ("none", args.layer):
        runs = ", ".join(f"{t:.2f}" for t in times[layers])
        print(f"| `--layers {layers}` | {statistics.median(times[layers]):.2f} | {runs} | "
              f"{statistics.median(cpus[layers]):.2f} | {max(peaks[layers]):.0f} |")  # fmt: skip
    print(f"\nwith {args.layer}: {ratio:.2f}x the wall time ({'met' if ratio <= TIME_GOAL else 'not met'}: <= {TIME_GOAL}x), "
          f"{cpu_ratio:.2f}x the CPU time; peak {peak:.0f} MB ({'met' if peak < MEMORY_GOAL_MB else 'not met'}: "
          f"< {MEMORY_GOAL_MB} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
