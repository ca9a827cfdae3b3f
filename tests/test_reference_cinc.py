"""Tests for forecast.data.reference: the bundled COW NMC 7.0 CINC table.

The shipped table is read from the package's default source (never from the
snapshot folder it was built from). Bad files are small temp files; every error
test asserts the file, row (1-based file line, header = 1) and field.
"""

from __future__ import annotations

import math

import pytest
from scripts import load_script

from forecast.data.loaders import load_dataset
from forecast.data.reference import CincTable, State, default_cinc_path, load_cinc
from forecast.errors import UnknownStateError, ValidationError
from forecast.workspace import content_hash, default_source, init_workspace

HEADER = "ccode,year,cinc"


@pytest.fixture(scope="module")
def table() -> CincTable:
    return load_cinc()


def write(tmp_path, lines, name="cinc.csv", bom=False):
    p = tmp_path / name
    p.write_bytes(("\ufeff" if bom else "").encode() + ("\n".join(lines) + "\n").encode("utf-8"))
    return p


def only_problem(path):
    with pytest.raises(ValidationError) as exc:
        load_cinc(path)
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0]


# --------------------------------------------------------------------------- the shipped table


def test_shipped_table_shape(table):
    assert table.path == default_cinc_path()
    assert table.path.parent.name == "reference" and table.path.parent.parent.name == "data"
    f = table.frame
    assert len(f) == 17121
    assert [str(t) for t in f.dtypes] == ["int64", "int64", "float64"]
    assert (f["year"].min(), f["year"].max()) == (1816, 2022)
    assert not f.duplicated(["ccode", "year"]).any()
    assert ((f["cinc"] > 0) & (f["cinc"] < 1)).all()
    assert len(table.states()) == 217
    assert not table.has_names


def test_shipped_known_values(table):
    # values as listed in data/reference/SOURCES.md (read from the NMC 7.0 file)
    assert table.series(2)[1991] == pytest.approx(0.1373024, rel=1e-12)
    assert table.series(710)[2022] == pytest.approx(0.23409663, rel=1e-12)
    assert table.series(365)[1991] == pytest.approx(0.10323294, rel=1e-12)
    assert table.series(740)[2022] == pytest.approx(0.024713842, rel=1e-12)
    us = table.series(2)
    assert list(us) == list(range(1816, 2023)) and list(us) == sorted(us)


def test_cinc_shares_sum_to_one_per_year(table):
    # CINC is each state's share of the system. A state's CINC averages its shares of the components it
    # has, so a year's total runs a little above 1 (1.000-1.075 in NMC 7.0), never far from it.
    totals = table.frame.groupby("year")["cinc"].sum()
    assert len(totals) == 2022 - 1816 + 1
    assert totals.between(0.999, 1.1).all(), totals[~totals.between(0.999, 1.1)]


def test_ratio_matches_the_default_power_indicator(table):
    # the shipped default dataset has cinc_ratio_chn_usa (China 710 / USA 2), rounded to 6 significant digits
    values = load_dataset(default_source() / "data").values
    shipped = values[values["indicator"] == "cinc_ratio_chn_usa"]
    assert len(shipped) >= 20
    ratio = dict(table.ratio(710, 2))
    for year, value in zip(shipped["year"], shipped["value"]):
        assert ratio[int(year)] == pytest.approx(value, rel=1e-5), year


def test_ratio_covers_only_common_years(table):
    a, b = table.series(710), table.series(2)
    pairs = table.ratio(710, 2)
    years = [y for y, _ in pairs]
    assert years == sorted(a.keys() & b.keys())
    assert years[0] == min(a) > min(b)  # the later member sets the start
    for y, v in pairs:
        assert v == a[y] / b[y]
    inverse = dict(table.ratio(2, 710))
    assert all(math.isclose(v * inverse[y], 1.0, rel_tol=1e-12) for y, v in pairs)


def test_states_records(table):
    states = table.states()
    assert all(isinstance(s, State) for s in states)
    assert [s.ccode for s in states] == sorted(s.ccode for s in states)
    us = next(s for s in states if s.ccode == 2)
    assert (us.first_year, us.last_year, us.n_years, us.abb, us.name) == (1816, 2022, 207, None, None)
    assert sum(s.n_years for s in states) == len(table.frame)


def test_lookup(table):
    assert table.lookup(740) == 740
    assert table.lookup("740") == 740 and table.lookup(" 2 ") == 2
    with pytest.raises(UnknownStateError, match="no state with COW code 1"):
        table.lookup(1)
    with pytest.raises(UnknownStateError, match="no state abbreviations"):
        table.lookup("XYZ")
    with pytest.raises(UnknownStateError):
        table.series(True)


# --------------------------------------------------------------------------- the workspace keeps out of it


def test_init_does_not_copy_reference_tables(tmp_path):
    assert (default_source() / "data" / "reference" / "cinc.csv").is_file()
    ws = init_workspace(tmp_path / "ws")
    assert not (ws.data_dir / "reference").exists()
    assert all("reference" not in p.relative_to(ws.root).parts for p in ws.root.rglob("*"))
    before = content_hash(ws)
    (ws.data_dir / "reference").mkdir()
    (ws.data_dir / "reference" / "cinc.csv").write_text(HEADER + "\n2,1816,0.5\n")
    assert content_hash(ws) == before  # only data/*.csv (non-recursive) and priors/*.toml count


# --------------------------------------------------------------------------- validation


def test_small_valid_file_with_bom(tmp_path):
    p = write(tmp_path, [HEADER, "20,1921,0.01", "20,1920,2.5e-05", "2,1920,0.2"], bom=True)
    t = load_cinc(p)
    assert t.frame[["ccode", "year"]].values.tolist() == [[2, 1920], [20, 1920], [20, 1921]]
    assert t.series(20) == {1920: 2.5e-05, 1921: 0.01}
    assert t.ratio(20, 2) == [(1920, 2.5e-05 / 0.2)]


@pytest.mark.parametrize("row, field, phrase", [
    ("2,1950,1.5", "cinc", "outside [0, 1]"),
    ("2,1950,-0.01", "cinc", "outside [0, 1]"),
    ("2,1950,", "cinc", "empty value"),
    ("2,1950,NA", "cinc", "not a number"),
    ("2,1950,nan", "cinc", "not a finite number"),
    ("2,1815,0.1", "year", "outside 1816-2022"),
    ("2,2023,0.1", "year", "outside 1816-2022"),
    ("2,19x0,0.1", "year", "not a whole number"),
    ("2.5,1950,0.1", "ccode", "not a whole number"),
    ("0,1950,0.1", "ccode", "outside 1-999"),
    ("1000,1950,0.1", "ccode", "outside 1-999"),
    ("2,1949,0.1", "year", "appears twice (first on row 2)"),
])
def test_bad_row_names_file_row_field(tmp_path, row, field, phrase):
    p = write(tmp_path, [HEADER, "2,1949,0.1", "2,1951,0.1", row], name="my_cinc.csv")
    prob = only_problem(p)
    assert (prob.file, prob.row, prob.field) == ("my_cinc.csv", 4, field)
    assert phrase in prob.message
    assert f"my_cinc.csv, row 4, field '{field}'" in str(prob)


def test_bad_header_and_missing_file(tmp_path):
    with pytest.raises(ValidationError) as exc:
        load_cinc(write(tmp_path, ["ccode,yaer,cinc", "2,1950,0.1"]))
    assert [(q.row, q.field) for q in exc.value.problems] == [(1, "yaer"), (1, "year")]
    assert "'year'" in (exc.value.problems[0].hint or "")
    missing = tmp_path / "nope.csv"
    with pytest.raises(ValidationError, match="file not found"):
        load_cinc(missing)


def test_every_bad_row_is_reported(tmp_path):
    p = write(tmp_path, [HEADER, "2,1950,2", "2,1800,0.1", "2,1951,0.1", "x,1952,0.1"])
    with pytest.raises(ValidationError) as exc:
        load_cinc(p)
    assert [(q.row, q.field) for q in exc.value.problems] == [(2, "cinc"), (3, "year"), (5, "ccode")]


# --------------------------------------------------------------------------- optional state names


NAMED = "ccode,year,cinc,stateabb,statename"


def test_names_enable_lookup_by_abbreviation(tmp_path):
    t = load_cinc(write(tmp_path, [NAMED, "901,1950,0.2,ALP,Alphaland", "902,1950,0.1,BET,Betastan",
                                   "901,1951,0.3,ALP,Alphaland"]))
    assert t.has_names
    assert t.lookup("alp") == 901 and t.lookup("BET") == 902
    assert [(s.ccode, s.abb, s.name, s.n_years) for s in t.states()] == [
        (901, "ALP", "Alphaland", 2), (902, "BET", "Betastan", 1)]
    assert t.ratio("ALP", "BET") == [(1950, 2.0)]
    with pytest.raises(UnknownStateError, match="abbreviation 'GAM'"):
        t.lookup("GAM")


@pytest.mark.parametrize("rows, row, field, phrase", [
    (["901,1950,0.2,ALP,Alphaland", "901,1951,0.2,ALQ,Alphaland"], 3, "stateabb", "on row 2"),
    (["901,1950,0.2,ALP,Alphaland", "901,1951,0.2,ALP,Alpha"], 3, "statename", "on row 2"),
    (["901,1950,0.2,ALP,Alphaland", "902,1950,0.2,alp,Betastan"], 3, "stateabb", "already used by state 901"),
    (["901,1950,0.2,,Alphaland"], 2, "stateabb", "empty value"),
])
def test_bad_names(tmp_path, rows, row, field, phrase):
    prob = only_problem(write(tmp_path, [NAMED, *rows]))
    assert (prob.file, prob.row, prob.field) == ("cinc.csv", row, field)
    assert phrase in prob.message


def test_names_need_both_columns(tmp_path):
    prob = only_problem(write(tmp_path, ["ccode,year,cinc,stateabb", "901,1950,0.2,ALP"]))
    assert (prob.row, prob.field) == (1, "statename")


# --------------------------------------------------------------------------- the build script


def test_build_script_on_a_tiny_snapshot(tmp_path):
    script = default_source() / "data" / "reference" / "build_cinc.py"
    mod = load_script(script, "build_cinc")
    src = tmp_path / "reference-data" / "cow_nmc_v7"
    src.mkdir(parents=True)
    (src / "NMC_7.0_abridged_all_states_1816_2022.csv").write_text(
        "ccode,year,milex,milper,irst,pec,tpop,upop,cinc\n"
        "20,1920,1.0,2.0,3.0,4.0,5.0,6.0,5.9248596e-05\n"
        "2,1921,1.0,NA,3.0,4.0,5.0,6.0,0.25\n"
        "2,1920,1.0,2.0,3.0,4.0,5.0,6.0,NA\n", encoding="utf-8")
    data, stats = mod.build(tmp_path / "reference-data")
    assert data == b"ccode,year,cinc\n2,1921,0.25\n20,1920,5.9248596e-05\n"
    assert (stats["rows"], stats["dropped_missing_cinc"]) == (2, 1)
    out = write(tmp_path, data.decode().splitlines(), name="built.csv")
    assert load_cinc(out).series(20) == {1920: 5.9248596e-05}
