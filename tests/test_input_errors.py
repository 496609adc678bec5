"""Bad input gets one clear message per problem (file, row, column, value), exit code 1, and no output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import load_store, run, select

TERMS = "cluster_annotation_term.csv"
SETS = "cluster_annotation_term_set.csv"
CLUSTERS = "cluster.csv"
MEMBERSHIP = "cluster_to_cluster_annotation_membership.csv"
WHERE = "metadata/WMB-taxonomy/20231215/"


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"fixture no longer contains {old!r}"
        return text.replace(old, new, 1)

    return edit


# (case id, file, edit, expected message fragments)
CASES = [
    (
        "missing column",
        TERMS,
        replace("cluster_annotation_term_set_label,parent", "set_label,parent"),
        [f"{WHERE}{TERMS}, row 1, column 'cluster_annotation_term_set_label': required column is missing"],
    ),
    (
        "duplicate label",
        TERMS,
        replace("CS20230722_CLAS_34,34 Immune", "CS20230722_CLAS_01,34 Immune"),
        [f"{TERMS}, row 6, column 'label': duplicate term label (first at row 5)"],
    ),
    (
        "unknown parent",
        TERMS,
        replace("CCN20230722_CLUS,CS20230722_SUPT_1197", "CCN20230722_CLUS,CS20230722_SUPT_9999"),
        ["row 17, column 'parent_term_label'", "does not contain", "'CS20230722_SUPT_9999'"],
    ),
    (
        "parent at the wrong level",
        TERMS,
        replace("CCN20230722_SUPT,CS20230722_SUBC_001", "CCN20230722_SUPT,CS20230722_CLAS_01"),
        ["row 10, column 'parent_term_label'", "parent is at level 'class', expected 'subclass'"],
    ),
    (
        "facet term with a parent",
        TERMS,
        replace("CCN20230722_NEUR,,", "CCN20230722_NEUR,CS20230722_CLAS_01,"),
        ["row 2, column 'parent_term_label'", "facet terms ('neurotransmitter') take no parent"],
    ),
    (
        "undeclared term set",
        TERMS,
        replace("CS20230722_CLAS_34,34 Immune,CCN20230722_CLAS", "CS20230722_CLAS_34,34 Immune,CCN20230722_XXXX"),
        ["row 6, column 'cluster_annotation_term_set_label'", "does not declare", "'CCN20230722_XXXX'"],
    ),
    (
        "invalid colour",
        TERMS,
        replace("#825f45", "#825f4"),
        ["row 6, column 'color_hex_triplet': expected a colour #RRGGBB (value '#825f4')"],
    ),
    (
        "non-integer order",
        TERMS,
        replace(",1,33,class", ",1,3.5,class"),
        ["row 6, column 'term_order': expected a non-negative integer (value '3.5')"],
    ),
    (
        "negative cell count",
        CLUSTERS,
        replace("128,2546", "128,-2546"),
        [f"{CLUSTERS}, row 2, column 'number_of_cells': expected a non-negative integer (value '-2546')"],
    ),
    (
        "empty label",
        TERMS,
        replace("CS20230722_CLAS_34,34 Immune", ",34 Immune"),
        ["row 6, column 'label': is empty; a value is required"],
    ),
    (
        "membership names an unknown term",
        MEMBERSHIP,
        replace("CS20230722_CLAS_01,CCN20230722_CLAS,128", "CS20230722_CLAS_99,CCN20230722_CLAS,128"),
        [f"{MEMBERSHIP}, row 3, column 'cluster_annotation_term_label'", "'CS20230722_CLAS_99'"],
    ),
    (
        "membership names an unknown cluster",
        MEMBERSHIP,
        replace("CCN20230722_CLAS,128,", "CCN20230722_CLAS,999,"),
        [
            f"{MEMBERSHIP}, row 3, column 'cluster_alias': names a cluster that cluster.csv does not contain (value '999')"
        ],
    ),
    (
        "membership disagrees on the cell count",
        MEMBERSHIP,
        replace("CCN20230722_CLAS,128,01 IT-ET Glut,class,2546", "CCN20230722_CLAS,128,01 IT-ET Glut,class,2547"),
        ["row 3, column 'number_of_cells': disagrees with the cluster's cell count 2546"],
    ),
    (
        "cycle in the hierarchy",
        TERMS,
        replace(
            "CS20230722_CLAS_01,01 IT-ET Glut,CCN20230722_CLAS,,",
            "CS20230722_CLAS_01,01 IT-ET Glut,CCN20230722_CLAS,CS20230722_SUBC_001,",
        ),
        ["row 5, column 'parent_term_label': parent is at level 'subclass', expected 'none (top level)'"],
    ),
    (
        "leaf cluster with no membership at a level",
        MEMBERSHIP,
        replace("CS20230722_SUPT_0002,CCN20230722_SUPT,131,0002 CLA-EPd-CTX Car3 Glut_2,supertype,1718,#170F66\n", ""),
        [f"{MEMBERSHIP}: cluster_alias '131' has no membership at level 'supertype'"],
    ),
    (
        "row with too many fields",
        SETS,
        replace("subclass,The coarse", "subclass,extra,The coarse"),
        [f"{SETS}, row 4: has 5 fields but the header has 4"],
    ),
]


@pytest.mark.parametrize(("file_name", "edit", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_precisely(
    broken_copy: Callable[[str, Callable[[str], str]], Path],
    tmp_path: Path,
    file_name: str,
    edit: Callable[[str], str],
    fragments: list[str],
) -> None:
    source = broken_copy(file_name, edit)
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", source, "--out", out)
    assert result.exit_code == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_all_problems_are_reported_in_one_pass(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(TERMS, lambda text: text.replace("#", "%"))
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path)
    assert result.exit_code == 1
    assert "17 problem(s) in the input" in result.stderr
    assert "... and" not in result.stderr  # 17 fit under the limit of 25 shown


def test_missing_required_file(broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path) -> None:
    source = broken_copy(TERMS, lambda text: text)
    (source / WHERE / TERMS).unlink()
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert f"{WHERE}{TERMS}: required file is missing" in result.stderr


def test_a_file_in_another_encoding_is_named(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(TERMS, lambda text: text)
    path = source / WHERE / TERMS
    path.write_bytes(path.read_text().replace("34 Immune", "34 Immuné").encode("latin-1"))
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert f"{TERMS}, row 6: is not UTF-8 text (undecodable byte 0xe9 in this row)" in result.stderr


def test_bom_crlf_quotes_and_padding_are_read_faithfully(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    def spreadsheet_style(text: str) -> str:
        text = text.replace(
            "CS20230722_CLAS_34,34 Immune,", 'CS20230722_CLAS_34 ,"34 Immune, ""resident""\nand more", '
        )
        return "\ufeff" + text.replace("\n", "\r\n")

    source = broken_copy(TERMS, spreadsheet_style)
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", source, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / "20231215" / "CCN20230722.nt")
    found = select(store, 'SELECT ?name WHERE { ?t skos:notation "CS20230722_CLAS_34" ; rdfs:label ?name }')
    assert found == [{"name": '34 Immune, "resident"\r\nand more'}]


def test_labels_that_are_not_iri_safe_are_percent_encoded(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(TERMS, lambda text: text.replace("CS20230722_NEUR_GABA", "CS20230722_ 2023/GABA <ü>#"))
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", source, "--out", out)
    assert result.exit_code == 0, result.stderr
    for fmt in ("nt", "ttl", "jsonld", "nq"):
        store = load_store(out / "WMB-taxonomy" / "20231215" / f"CCN20230722.{fmt}")
        found = select(store, 'SELECT ?t WHERE { ?t skos:notation "CS20230722_ 2023/GABA <ü>#" }')
        iri = "https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_%202023%2FGABA%20%3C%C3%BC%3E%23"
        assert found == [{"t": iri}]


def atlas_copy(tmp_path: Path) -> Path:
    from conftest import atlas_with_aging_counts

    return atlas_with_aging_counts(tmp_path / "atlas")


ATLAS_CASES = [
    (
        "aging without cluster mapping",
        "Zeng-Aging-Mouse",
        "Zeng-Aging-Mouse-WMB-taxonomy/20241130/cluster_mapping.csv",
        None,
        ["metadata/Zeng-Aging-Mouse-WMB-taxonomy/20241130/cluster_mapping.csv: required file is missing"],
    ),
    (
        "aging cluster table names an unknown cluster",
        "Zeng-Aging-Mouse",
        "Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv",
        replace("843,2640,", "844,2640,"),
        [
            "metadata/Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv, row 4, column 'cluster_alias': "
            "names a cluster that cluster_mapping.csv does not contain (value '844')"
        ],
    ),
    (
        "aging statistic that is not a number",
        "Zeng-Aging-Mouse",
        "Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv",
        replace("1.1093", "n/a"),
        ["cluster.csv, row 2, column 'odds_ratio': expected a number (value 'n/a')"],
    ),
    (
        "aging statistic that Python reads as a number but xsd:double does not",
        "Zeng-Aging-Mouse",
        "Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv",
        replace("1.1093", "1_1093"),
        ["cluster.csv, row 2, column 'odds_ratio': expected a number (value '1_1093')"],
    ),
    (
        "abbreviation with an unknown prefix",
        "HMBA-BG-taxonomy",
        "HMBA-BG-taxonomy-CCN20250428/20250630/abbreviation_term.csv",
        replace("CL:0000127", "XX:0000127"),
        ["abbreviation_term.csv, row 4, column 'primary_identifier': is not a CURIE with a known prefix"],
    ),
    (
        "abbreviation map names an unknown term",
        "HMBA-BG-taxonomy",
        "HMBA-BG-taxonomy-CCN20250428/20250630/cluster_annotation_to_abbreviation_map.csv",
        replace("CS20250428_CLASS_0000,", "CS20250428_CLASS_0099,"),
        ["row 2, column 'cluster_annotation_term_label'", "'CS20250428_CLASS_0099'"],
    ),
    (
        "term set whose parent set is undeclared",
        "Consensus-WMB-taxonomy",
        "Consensus-WMB-integrated-taxonomy/20251031/cluster_annotation_term_set.csv",
        replace("class,2,CCN20251031_LEVEL_0", "class,2,CCN20251031_LEVEL_9"),
        ["row 4, column 'parent_term_set_label': names an undeclared term set (value 'CCN20251031_LEVEL_9')"],
    ),
]


@pytest.mark.parametrize(
    ("taxonomy_id", "file_name", "edit", "fragments"), [c[1:] for c in ATLAS_CASES], ids=[c[0] for c in ATLAS_CASES]
)
def test_bad_input_in_other_taxonomies(
    tmp_path: Path, taxonomy_id: str, file_name: str, edit: Callable[[str], str] | None, fragments: list[str]
) -> None:
    root = atlas_copy(tmp_path)
    target = root / "metadata" / file_name
    if edit is None:
        target.unlink()
    else:
        target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    result = run("export", taxonomy_id, "--source", root, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_term_set_without_terms_is_an_error_unless_the_registry_says_the_release_omits_it(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(SETS, lambda text: text + "CCN20230722_XTRA,extra,A level with no terms.,5\n")
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out", "--format", "nt")
    assert result.exit_code == 1, result.stderr
    assert "has no terms of the term set CCN20230722_XTRA (extra)" in result.stderr
    sample = run("export", "WMB-taxonomy", "--out", tmp_path / "sample", "--format", "nt")  # the bundled sample
    assert sample.exit_code == 0, sample.stderr
    assert "has no terms" not in sample.stderr  # no alarm: the summary line says what the sample lacks
    assert "from the bundled sample: a partial rebuild" in sample.stderr and "no cluster-level terms" in sample.stderr
    verbose = run("-v", "export", "WMB-taxonomy", "--out", tmp_path / "sample", "--format", "nt")
    assert "term set CCN20230722_CLUS (cluster) has no terms: the bundled sample is partial" in verbose.stderr


def test_a_term_table_with_only_a_header_is_an_error(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(TERMS, lambda text: text.split("\n", 1)[0] + "\n")
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.stderr
    assert f"{TERMS}: has a header but no terms" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unclosed_quote_names_the_row_where_it_opens(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(TERMS, replace("CS20230722_CLAS_34,34 Immune,", 'CS20230722_CLAS_34,"34 Immune,'))
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.stderr
    assert f"{TERMS}, row 6: is not valid CSV: a quoted field that starts in this row is never closed" in result.stderr


def test_a_short_row_is_not_padded_silently(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    source = broken_copy(SETS, replace(",subclass,The coarse level", ",subclass"))
    result = run("export", "WMB-taxonomy", "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.stderr
    assert f"{SETS}, row 4: has 3 fields but the header has 4" in result.stderr


def test_na_and_none_stay_names(broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path) -> None:
    source = broken_copy(TERMS, replace("CS20230722_CLAS_34,34 Immune,", "CS20230722_CLAS_34,None,"))
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", source, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / "20231215" / "CCN20230722.nt")
    names = select(
        store, 'SELECT ?n WHERE { ?t skos:notation ?l ; rdfs:label ?n FILTER(?n IN ("NA", "None")) } ORDER BY ?n'
    )
    assert names == [{"n": "NA"}, {"n": "None"}]


def test_verbose_shows_the_traceback_instead_of_the_short_message(
    broken_copy: Callable[[str, Callable[[str], str]], Path], tmp_path: Path
) -> None:
    from abc_atlas_kg.errors import InputError

    source = broken_copy(TERMS, replace("#825f45", "#825f4"))
    result = run("-v", "export", "WMB-taxonomy", "--source", source, "--out", tmp_path)
    assert result.exit_code == 1  # -v adds the traceback; it never changes the exit code
    assert "Traceback (most recent call last)" in result.stderr and InputError.__name__ in result.stderr
    assert "expected a colour" in result.stderr
