"""Synthetic ABC Atlas tables at real sizes, in each taxonomy's exact published column layout.

The column layout of every file is taken from the test fixture of the same taxonomy (tests/fixtures/atlas),
so the generator cannot drift from what the tests prove the exporter reads. Sizes are the published counts
(shared/reference/abc_data_model.md); `scale` multiplies every level below the top one.

    python bench/generate.py OUT_DIR [--scale 10]
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "atlas" / "metadata"


@dataclass(frozen=True)
class LevelSize:
    set_label: str
    name: str
    code: str  # label code, e.g. CLAS
    count: int


@dataclass(frozen=True)
class TaxonomySize:
    folder: str  # directory/release, as in the fixture
    term_prefix: str  # prefix of term labels
    facets: tuple[LevelSize, ...]
    hierarchy: tuple[LevelSize, ...]


SIZES = {
    "WMB-taxonomy": TaxonomySize(
        "WMB-taxonomy/20231215",
        "CS20230722",
        (LevelSize("CCN20230722_NEUR", "neurotransmitter", "NEUR", 10),),
        (
            LevelSize("CCN20230722_CLAS", "class", "CLAS", 34),
            LevelSize("CCN20230722_SUBC", "subclass", "SUBC", 338),
            LevelSize("CCN20230722_SUPT", "supertype", "SUPT", 1201),
            LevelSize("CCN20230722_CLUS", "cluster", "CLUS", 5322),
        ),
    ),
    "WMB-taxonomy-CCN20230504": TaxonomySize(
        "WMB-taxonomy/20230630",
        "CCN20230504",
        (
            LevelSize("CCN20230504_NEUR", "neurotransmitter", "NEUR", 9),
            LevelSize("CCN20230504_DIVI", "division", "DIVI", 7),
        ),
        (
            LevelSize("CCN20230504_CLAS", "class", "CLAS", 32),
            LevelSize("CCN20230504_SUBC", "subclass", "SUBC", 307),
            LevelSize("CCN20230504_SUPT", "supertype", "SUPT", 1115),
            LevelSize("CCN20230504_CLUS", "cluster", "CLUS", 5196),
        ),
    ),
    "Consensus-WMB-taxonomy": TaxonomySize(
        "Consensus-WMB-integrated-taxonomy/20251031",
        "CS20251031",
        (LevelSize("CCN20251031_NEUR", "neurotransmitter", "NEUR", 22),),
        (
            LevelSize("CCN20251031_LEVEL_0", "neighborhood", "NEIGH", 9),
            LevelSize("CCN20251031_LEVEL_1", "class", "CLAS", 43),
            LevelSize("CCN20251031_LEVEL_2", "subclass", "SUBC", 414),
            LevelSize("CCN20251031_LEVEL_3", "supertype", "SUPT", 1386),
            LevelSize("CCN20251031_LEVEL_4", "cluster", "CLUS", 6721),
        ),
    ),
    "WHB-taxonomy": TaxonomySize(
        "WHB-taxonomy/20240330",
        "CS202210140",
        (LevelSize("CCN202210140_NEUR", "neurotransmitter", "NEUR", 20),),
        (
            LevelSize("CCN202210140_SUPC", "supercluster", "SUPC", 31),
            LevelSize("CCN202210140_CLUS", "cluster", "CLUS", 461),
            LevelSize("CCN202210140_SUBC", "subcluster", "SUBC", 3313),
        ),
    ),
    "SEAAD-taxonomy": TaxonomySize(
        "SEAAD-taxonomy/20240131",
        "CS20230508",
        (LevelSize("CCN20230508_ACPS", "abundancechangecps", "ACPS", 3),),
        (
            LevelSize("CCN20230508_CLAS", "class", "CLAS", 3),
            LevelSize("CCN20230508_SUBC", "subclass", "SUBC", 24),
            LevelSize("CCN20230508_SUPT", "supertype", "SUPT", 139),
        ),
    ),
    "HMBA-BG-taxonomy": TaxonomySize(
        "HMBA-BG-taxonomy-CCN20250428/20250630",
        "CS20250428",
        (),
        (
            LevelSize("CCN20250428_LEVEL_0", "Neighborhood", "NEIGH", 4),
            LevelSize("CCN20250428_LEVEL_1", "Class", "CLASS", 12),
            LevelSize("CCN20250428_LEVEL_2", "Subclass", "SUBCL", 36),
            LevelSize("CCN20250428_LEVEL_3", "Group", "GROUP", 61),
            LevelSize("CCN20250428_LEVEL_4", "Cluster", "CLUST", 1435),
        ),
    ),
}
AGING_CLUSTERS = 847
SPECIES = ("Human", "Macaque", "Marmoset")


def header(folder: str, name: str) -> list[str]:
    with (FIXTURE / folder / name).open(newline="") as f:
        return next(csv.reader(f))


def write(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, columns, lineterminator="\n")
        out.writeheader()
        for row in rows:
            out.writerow({c: row.get(c, "") for c in columns})


def colour(rng: random.Random) -> str:
    return f"#{rng.randrange(1 << 24):06X}"


def taxonomy(root: Path, taxonomy_id: str, size: TaxonomySize, scale: int, rng: random.Random) -> None:
    folder = root / "metadata" / size.folder
    levels = list(size.hierarchy)
    levels = [levels[0]] + [LevelSize(lv.set_label, lv.name, lv.code, lv.count * scale) for lv in levels[1:]]
    all_levels = list(size.facets) + levels
    set_rows = []
    for rank, level in enumerate(all_levels):
        parent = levels[levels.index(level) - 1].set_label if level in levels and levels.index(level) else ""
        set_rows.append(
            {
                "label": level.set_label,
                "name": level.name,
                "description": level.name,
                "order": rank,
                "term_set_order": rank,
                "parent_term_set_label": parent,
            }
        )
    write(folder / "cluster_annotation_term_set.csv", header(size.folder, "cluster_annotation_term_set.csv"), set_rows)
    width = max(4, len(str(max(level.count for level in all_levels))))
    terms: dict[str, list[dict[str, object]]] = {}
    for depth, level in enumerate(all_levels):
        above = (
            None
            if level in size.facets or levels.index(level) == 0
            else terms[levels[levels.index(level) - 1].set_label]
        )
        rows = []
        for i in range(level.count):
            parent = above[i * len(above) // level.count] if above else None
            number = str(i + 1).zfill(width)
            name = (
                f"{number} Species-{i}"
                if level is levels[-1] and taxonomy_id == "HMBA-BG-taxonomy"
                else f"{number} {level.name} {i}"
            )
            if level is levels[-1] and taxonomy_id == "HMBA-BG-taxonomy":
                name = f"{SPECIES[i % 3]}-{i}"
            rows.append(
                {
                    "label": f"{size.term_prefix}_{level.code}_{number}",
                    "name": name,
                    "cluster_annotation_term_set_label": level.set_label,
                    "cluster_annotation_term_set_name": level.name,
                    "parent_term_label": parent["label"] if parent else "",
                    "parent_term_name": parent["name"] if parent else "",
                    "parent_term_set_label": parent["cluster_annotation_term_set_label"] if parent else "",
                    "term_set_order": depth,
                    "term_order": i,
                    "color_hex_triplet": colour(rng),
                    "number_of_cells": rng.randrange(10, 100000),
                    "description": f"synthetic {level.name} {i}",
                }
            )
        terms[level.set_label] = rows
    term_columns = header(size.folder, "cluster_annotation_term.csv")
    write(folder / "cluster_annotation_term.csv", term_columns, [row for rows in terms.values() for row in rows])
    leaves = terms[levels[-1].set_label]
    ancestry = {row["label"]: row for rows in terms.values() for row in rows}
    clusters, memberships = [], []
    for i, leaf in enumerate(leaves):
        alias = leaf["name"] if taxonomy_id in ("SEAAD-taxonomy", "HMBA-BG-taxonomy") else str(i + 1)
        cells = leaf["number_of_cells"]
        label = leaf["label"] if taxonomy_id != "WMB-taxonomy" else f"{size.term_prefix}_{str(i + 1).zfill(width)}"
        clusters.append({"cluster_alias": alias, "number_of_cells": cells, "label": label})
        chain, node = [], leaf
        while node:
            chain.append(node)
            node = ancestry.get(node["parent_term_label"])
        for facet in size.facets:
            chain.append(terms[facet.set_label][i % facet.count])
        for term in chain:
            memberships.append(
                {
                    **term,
                    "cluster_annotation_term_label": term["label"],
                    "cluster_alias": alias,
                    "cluster_annotation_term_name": term["name"],
                    "number_of_cells": cells,
                }
            )
    if (FIXTURE / size.folder / "cluster.csv").exists():
        write(folder / "cluster.csv", header(size.folder, "cluster.csv"), clusters)
    write(
        folder / "cluster_to_cluster_annotation_membership.csv",
        header(size.folder, "cluster_to_cluster_annotation_membership.csv"),
        memberships,
    )
    if taxonomy_id == "HMBA-BG-taxonomy":
        for name in ("abbreviation_term.csv", "cluster_annotation_to_abbreviation_map.csv"):
            (folder / name).write_bytes((FIXTURE / size.folder / name).read_bytes())
        mapped = [
            {"cluster_annotation_term_label": row["label"], "abbreviation_term": "Glut"}
            for row in terms[levels[1].set_label]
        ]
        write(
            folder / "cluster_annotation_to_abbreviation_map.csv",
            header(size.folder, "cluster_annotation_to_abbreviation_map.csv"),
            mapped,
        )


def aging(root: Path, scale: int, rng: random.Random) -> None:
    wmb = SIZES["WMB-taxonomy"]
    supertypes = wmb.hierarchy[2].count * scale
    cluster_rows, mapping_rows = [], []
    for i in range(AGING_CLUSTERS * scale):
        adult, aged = rng.randrange(0, 3000), rng.randrange(1, 3000)
        label = f"CS20241021_{i + 1:04d}"
        nt = ("Glut", "GABA", "No-NT")[i % 3]
        cluster_rows.append(
            {
                "cluster_alias": i + 1,
                "number_of_cells": adult + aged,
                "cluster_label": label,
                "cluster_order": i,
                "cluster_name": f"{i + 1}_aging {i}",
                "cluster_color": colour(rng),
                "number_of_adult_cells": adult,
                "number_of_aged_cells": aged,
                "proportion_adult_cells": adult / (adult + aged),
                "proportion_aged_cells": aged / (adult + aged),
                "odds_ratio": aged / adult if adult else math.inf,
                "log2_odds_ratio": math.log2(aged / adult) if adult else math.inf,
                "cluster_age_bias": "unassigned",
                "cluster_age_bias_color": "#DADEDF",
                "neurotransmitter_combined_label": nt,
                "neurotransmitter_label": nt,
                "neurotransmitter_color": {"Glut": "#2B93DF", "GABA": "#FF3358", "No-NT": "#666666"}[nt],
            }
        )
        width = max(4, len(str(supertypes)))
        for code, name, count in (
            ("SUPT", "supertype", supertypes),
            ("SUBC", "subclass", wmb.hierarchy[1].count * scale),
            ("CLAS", "class", wmb.hierarchy[0].count),
        ):
            number = str(i * count // (AGING_CLUSTERS * scale) + 1).zfill(width)
            mapping_rows.append(
                {
                    "cluster_alias": i + 1,
                    "cluster_label": label,
                    "cluster_order": i,
                    "cluster_name": f"{i + 1}_aging {i}",
                    "cluster_color": cluster_rows[-1]["cluster_color"],
                    "cluster_annotation_term_label": f"CS20230722_{code}_{number}",
                    "cluster_annotation_term_set_name": name,
                }
            )
    base = root / "metadata"
    write(
        base / "Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv",
        header("../variants/aging-10Xv3-20250131/metadata/Zeng-Aging-Mouse-10Xv3/20250131", "cluster.csv"),
        cluster_rows,
    )
    write(
        base / "Zeng-Aging-Mouse-WMB-taxonomy/20241130/cluster_mapping.csv",
        header("Zeng-Aging-Mouse-WMB-taxonomy/20241130", "cluster_mapping.csv"),
        mapping_rows,
    )


def generate(root: Path, scale: int = 1, seed: int = 20231215) -> Path:
    rng = random.Random(seed)
    for taxonomy_id, size in SIZES.items():
        taxonomy(root, taxonomy_id, size, scale, rng)
    aging(root, scale, rng)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.scale)
    print(args.out)


if __name__ == "__main__":
    main()
