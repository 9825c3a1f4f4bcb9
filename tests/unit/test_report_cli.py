"""`python -m geo report` end to end, as a user runs it."""
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from geo.paths import ROOT


def geo_cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def england_districts(store):
    r = geo_cli("report", "--scope", "england", "--by", "district", "--vintage", "2019", "--format", "csv")
    return pd.read_csv(io.StringIO(r.stdout))


def test_england_districts_match_mhclg_file10(england_districts, store):
    t = england_districts.set_index("code")
    off = store.lad19_official.set_index("lad19cd")
    assert len(t) == 317 and set(t.index) == set(off.index)
    assert (t["imd_score"] - off["Score"]).abs().max() <= 0.001
    assert (t["pct_lsoas_most_deprived_10"] / 100 - off["Proportion"]).abs().max() <= 0.0001


def test_required_columns(england_districts):
    for c in ["code", "name", "population", "imd_score", "pct_core20", "core20_population",
              "pct_lsoas_most_deprived_10"]:
        assert c in england_districts.columns
    assert england_districts["pct_core20"].between(0, 100).all()


@pytest.mark.parametrize("by,rows", [("lsoa", 1049), ("ward", 277), ("district", 16), ("place", 5), ("subicb", 8),
                                     ("icb", 1)])
def test_lsc_report_rows(store, by, rows):
    r = geo_cli("report", "--by", by, "--format", "json")
    data = json.loads(r.stdout)
    assert len(data) == rows
    assert {"code", "name", "population", "imd_score", "pct_core20"} <= set(data[0])


def test_place_filter_and_grouping(store):
    r = geo_cli("report", "--by", "ward", "--place", "Blackpool", "--format", "csv")
    t = pd.read_csv(io.StringIO(r.stdout))
    assert len(t) == 21 and (t["lad19nm"] == "Blackpool").all()
    r = geo_cli("report", "--by", "place", "--grouping", "place4", "--format", "csv")
    t = pd.read_csv(io.StringIO(r.stdout))
    assert sorted(t["name"]) == ["Blackburn with Darwen", "Blackpool", "Lancashire-12", "South Cumbria"]
    # ward populations add up to the place's population
    w = pd.read_csv(io.StringIO(geo_cli("report", "--by", "ward", "--place", "South Cumbria").stdout))
    assert w["population"].sum() == t.set_index("name").loc["South Cumbria", "population"]


def test_vintage_2025(store):
    t = pd.read_csv(io.StringIO(geo_cli("report", "--by", "district", "--vintage", "2025").stdout))
    assert len(t) == 16
    assert (t["population_basis"] == "Census 2021 usual residents").all()
    assert t["population"].sum() == pytest.approx(1_702_969)  # SOURCES.md: Census 2021 total for the 16 LADs


@pytest.mark.parametrize("args,needle", [
    (["--by", "town"], "invalid choice: 'town'"),
    (["--by", "ward", "--place", "Narnia"], "valid: ICB, Central Lancashire"),
    (["--by", "ward", "--scope", "england"], "valid: lsoa, district, england"),
    (["--by", "ward", "--scope", "england", "--vintage", "2025", "--ward-vintage", "2019"], "use --ward-vintage 2024"),
    (["--by", "ward", "--icb", "Narnia"], "unknown ICB 'Narnia'; closest:"),
    (["--by", "ward", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_options_one_line_exit_2(store, args, needle):
    r = geo_cli("report", *args, check=False)
    assert r.returncode == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""
