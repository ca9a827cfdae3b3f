"""Tests for forecast.data.claims: the shipped territorial-claims reference class.

The shipped tables are read from the package's default source. Bad files are small temp
files made from the first two rows of the shipped claims.csv; every error test asserts the
file, row (1-based file line, header = 1) and field. The byte-for-byte rebuild runs only
when FORECAST_SHARED_DATA names the reference-data snapshot folder (tests never look for it).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecast.data.claims import (
    CLAIM_COLUMNS,
    CLAIMS_FILE,
    PROFILE_CLAIM,
    PROFILE_FILE,
    ClaimYears,
    load_claim_years,
    load_claim_profile,
)
from forecast.errors import ValidationError
from forecast.workspace import default_source, reference_dir

# the counts reported in data/reference/SOURCES.md
N_CLAIM_YEARS, N_CLAIMS, N_PEACEFUL = 9990, 412, 194
PEACEFUL_BY_ISSUE = {"territorial": 109, "river": 35, "maritime": 50}
ENDINGS = {"peaceful": 194, "dropped": 81, "conquest": 19, "other": 26}


@pytest.fixture(scope="module")
def claims() -> ClaimYears:
    return load_claim_years()


@pytest.fixture(scope="module")
def kuril() -> ClaimYears:
    return load_claim_profile()


def shipped_lines(n: int) -> list[str]:
    return (reference_dir() / CLAIMS_FILE).read_text(encoding="utf-8").split("\n")[:n + 1]


def write(tmp_path, lines, name="claims.csv"):
    p = tmp_path / name
    p.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return p


def set_field(line: str, column: str, value: str) -> str:
    parts = line.split(",")
    parts[CLAIM_COLUMNS.index(column)] = value
    return ",".join(parts)


def problems_of(path, loader=load_claim_years):
    with pytest.raises(ValidationError) as exc:
        loader(path)
    return exc.value.problems


# --------------------------------------------------------------------------- the shipped tables


def test_shipped_claims_shape(claims):
    f = claims.frame
    assert claims.path == reference_dir() / CLAIMS_FILE
    assert claims.sha256 == hashlib.sha256(claims.path.read_bytes()).hexdigest()
    assert tuple(f.columns) == CLAIM_COLUMNS
    assert (len(f), claims.n_claims, claims.n_settled) == (N_CLAIM_YEARS, N_CLAIMS, N_PEACEFUL)
    assert f[f["settled"] == 1].groupby("issue").size().to_dict() == PEACEFUL_BY_ISSUE
    assert f[f["ending"] != "ongoing"].groupby("ending").size().to_dict() == ENDINGS
    assert not f.duplicated(["claim", "year"]).any()
    assert f[["claim", "year"]].equals(f.sort_values(["claim", "year"])[["claim", "year"]].reset_index(drop=True))
    for c in ("claim", "year", "salint", "settled", "recyes10"):
        assert str(f[c].dtype) == "int64"
    for c in ("icowsal", "recmidwt", "cinc_chal", "log_cinc_ratio"):
        assert str(f[c].dtype) == "float64"
    assert (f["settled"] == (f["ending"] == "peaceful")).all()
    assert (f["year"].min(), f["year"].max()) == (1816, 2001)
    assert set(f["region"]) == {"americas", "europe", "middle_east", "asia"}


def test_kuril_in_claims_and_profile(claims, kuril):
    k = claims.frame[claims.frame["claim"] == PROFILE_CLAIM]
    assert k["year"].tolist() == list(range(1952, 2002))
    assert set(k["ending"]) == {"ongoing"} and k["settled"].sum() == 0
    assert set(zip(k["chal"], k["tgt"], k["issue"], k["region"])) == {(740, 365, "territorial", "asia")}
    assert set(k["icowsal"]) == {12.0}
    p = kuril.frame
    assert kuril.path == reference_dir() / PROFILE_FILE
    assert p["year"].tolist() == list(range(1952, 2026)) and set(p["claim"]) == {PROFILE_CLAIM}
    early = p[p["year"] <= 2001].reset_index(drop=True)
    assert early.equals(k.reset_index(drop=True))
    # 1956 Joint Declaration: the attempt shows the next year, as ICOW lags it
    assert p.set_index("year").loc[1957, "attempt_lag"] == 1
    assert p.set_index("year").loc[1957, "recyes10"] == 1


# --------------------------------------------------------------------------- bad files

def test_two_row_sample_is_valid(tmp_path):
    t = load_claim_years(write(tmp_path, shipped_lines(2)))
    assert len(t.frame) == 2 and t.n_settled == 1


@pytest.mark.parametrize("column, value, field, phrase", [
    ("year", "18x6", "year", "not a whole number"),
    ("salint", "2.5", "salint", "not a whole number"),
    ("icowsal", "13", "icowsal", "outside 0.0-12.0"),
    ("salint", "7", "salint", "outside 0-6"),
    ("recyes10", "-1", "recyes10", "outside 0-inf"),
    ("cinc_tgt", "0", "cinc_tgt", "outside (0, 1]"),
    ("issue", "land", "issue", "not a known issue"),
    ("region", "oceania", "region", "not a known region"),
    ("ending", "won", "ending", "not a known ending"),
    ("settled", "1", "settled", "does not match ending 'ongoing'"),
    ("duration", "3", "duration", "not year - start_year"),
    ("log_cinc_ratio", "-2.5", "log_cinc_ratio", "not log(cinc_chal / cinc_tgt)"),
    ("source", "", "source", "empty value"),
])
def test_bad_field(tmp_path, column, value, field, phrase):
    head, first, second = shipped_lines(2)
    probs = problems_of(write(tmp_path, [head, set_field(first, column, value), second]))
    assert [(p.file, p.row, p.field) for p in probs] == [("claims.csv", 2, field)], probs
    assert phrase in probs[0].message
    assert "claims.csv, row 2, field" in str(probs[0])


def test_unterminated_quote(tmp_path):
    head, first, second = shipped_lines(2)
    probs = problems_of(write(tmp_path, [head, set_field(first, "source", '"ICOW1.1'), second]))
    assert (probs[0].file, probs[0].row, probs[0].field) == ("claims.csv", 2, "source")
    assert "quote" in probs[0].message


def test_duplicate_key(tmp_path):
    head, first, second = shipped_lines(2)
    probs = problems_of(write(tmp_path, [head, first, second, first]))
    assert [(p.file, p.row, p.field) for p in probs] == [("claims.csv", 4, "year")]
    assert "appears twice (first on row 2)" in probs[0].message


def test_settled_without_peaceful_ending(tmp_path):
    head, first, second = shipped_lines(2)
    bad = set_field(second, "ending", "dropped")
    probs = problems_of(write(tmp_path, [head, first, bad]))
    assert [(p.row, p.field) for p in probs] == [(3, "settled")]


def test_wrong_header(tmp_path):
    head, first, second = shipped_lines(2)
    probs = problems_of(write(tmp_path, [head.replace("icowsal", "salience"), first, second]))
    assert {(p.file, p.row, p.field) for p in probs} == {("claims.csv", 1, "salience"), ("claims.csv", 1, "icowsal")}


def test_ending_only_in_last_row(tmp_path):
    head, first, second = shipped_lines(2)
    early = set_field(set_field(first, "ending", "peaceful"), "settled", "1")
    probs = problems_of(write(tmp_path, [head, early, second]))
    assert [(p.row, p.field) for p in probs] == [(3, "ending")] and "ends twice" in probs[0].message
    probs = problems_of(write(tmp_path, [head, early, set_field(set_field(second, "ending", "ongoing"), "settled", "0")]))
    assert [(p.row, p.field) for p in probs] == [(2, "ending")] and "later rows" in probs[0].message


def test_claim_attributes_fixed(tmp_path):
    head, first, second = shipped_lines(2)
    probs = problems_of(write(tmp_path, [head, first, set_field(second, "region", "europe")]))
    assert [(p.row, p.field) for p in probs] == [(3, "region")]


def test_kuril_profile_rules(tmp_path):
    lines = (reference_dir() / PROFILE_FILE).read_text(encoding="utf-8").split("\n")
    probs = problems_of(write(tmp_path, lines[:10], name="claim_profile.csv"), load_claim_profile)
    assert [(p.file, p.field) for p in probs] == [("claim_profile.csv", "year")] and "missing" in probs[0].message
    probs = problems_of(write(tmp_path, [*shipped_lines(2), *lines[1:]], name="claim_profile.csv"), load_claim_profile)
    assert [(p.row, p.field) for p in probs] == [(2, "claim")]


# --------------------------------------------------------------------------- the build script


def test_rebuild_is_byte_identical(tmp_path):
    shared = os.environ.get("FORECAST_SHARED_DATA")
    if not shared or not Path(shared).is_dir():
        pytest.skip("set FORECAST_SHARED_DATA to the reference-data snapshot folder to rebuild the extract")
    script = default_source() / "data" / "reference" / "build_claims.py"
    run = subprocess.run([sys.executable, str(script), "--shared", shared, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    for name in ("claims.csv", "claim_profile.csv", "kuril_attempts.csv"):
        assert (tmp_path / name).read_bytes() == (reference_dir() / name).read_bytes(), name
