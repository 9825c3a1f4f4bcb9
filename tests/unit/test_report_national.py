"""`geo report` for any ICB / England on IoD2025, against MHCLG's published summaries."""
import io
import subprocess
import sys

import pandas as pd
import pytest

from geo.paths import ROOT
from geo.report import build_table


def geo_cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


PROP = "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally"


@pytest.mark.parametrize("by,file,code,n", [("icb", "imd/iod2025_icb24_summaries_england.csv", "icb24_code", 42),
                                            ("district", "imd/iod2025_lad24_summaries_england.csv", "ltla24_code",
                                             296)])
def test_proportion_most_deprived_10pct_reproduces_mhclg(store, real_source, by, file, code, n):
    r = geo_cli("report", "--scope", "england", "--by", by, "--vintage", "2025", "--format", "csv")
    t = pd.read_csv(io.StringIO(r.stdout)).set_index("code")
    pub = pd.read_csv(real_source / file).set_index(code)
    assert len(t) == n and set(t.index) == set(pub.index)
    ours = (t["pct_lsoas_most_deprived_10"] / 100).reindex(pub.index)
    assert ((ours.round(4) - pub[PROP]).abs() < 1e-9).all(), (ours.round(4) - pub[PROP]).abs().idxmax()
    assert (t["population_basis"] == "Census 2021 usual residents").all()
    # population-weighted scores: Census 2021, not MHCLG's denominators -> close, not equal
    diff = (t["imd_score"] - pub["imd_average_score"].reindex(t.index)).abs()
    assert diff.max() < 0.5 and diff.mean() < 0.1
    assert (t["imd_score_vs_published"] - (t["imd_score"] - t["published_imd_average_score"])).abs().max() < 1e-6
    assert "MHCLG's published average score" in r.stderr and f"for {n} of {n}" in r.stderr


def test_icb_by_lsoa_one_row_per_lsoa21(store):
    t = pd.read_csv(io.StringIO(geo_cli("report", "--icb", "E54000048", "--by", "lsoa", "--vintage", "2025").stdout))
    assert len(t) == 1060 and t["code"].is_unique and t["code"].str.startswith("E01").all()
    assert set(t["icb24cd"]) == {"E54000048"}
    assert {"imd_rank", "imd_decile", "wd24cd", "lad24nm"} <= set(t.columns)
    assert t["population"].sum() == store.lsoa21.loc[store.lsoa21["icb24cd"] == "E54000048", "pop2021"].sum()


@pytest.mark.parametrize("by,rows", [("ward", None), ("district", 17), ("place", 8), ("icb", 1)])
def test_icb_groupings(store, by, rows):
    t = build_table(store, by, vintage=2025, icb="lancashire")
    if rows:
        assert len(t) == rows
    lsc = store.lsoa21[store.lsoa21["icb24cd"] == "E54000048"]
    assert t["population"].sum() == pytest.approx(lsc["pop2021"].sum())  # every LSOA counted once
    assert (t["area"] == "NHS Lancashire and South Cumbria Integrated Care Board").all()


def test_icb_row_matches_published_icb_summary(store):
    t = build_table(store, "icb", vintage=2025, icb="E54000059").iloc[0]
    off = store.icb_official.set_index("icb24cd").loc["E54000059"]
    assert t["code"] == "E54000059"
    assert round(t["imd_prop_most_deprived_10"], 4) == pytest.approx(off[PROP], abs=1e-9)
    assert abs(t["imd_score"] - off["imd_average_score"]) < 0.2


def test_iod2019_by_icb_on_2011_lsoas(store):
    t = build_table(store, "district", vintage=2019, icb="E54000048")
    assert t["n_lsoas"].sum() == 1058
    off = store.lad19_official.set_index("lad19cd")
    whole = t[t["whole_district"]].set_index("code")
    assert len(whole) >= 14
    assert (whole["imd_score"] - off.loc[whole.index, "Score"]).abs().max() <= 0.001  # File 10 with mid-2015


def test_unknown_icb_on_the_command_line(store):
    r = geo_cli("report", "--icb", "Narnia Health", "--by", "lsoa", "--vintage", "2025", check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert "unknown ICB 'Narnia Health'; closest:" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = geo_cli("report", "--icb", "lsc", "--scope", "england", "--by", "icb", check=False)
    assert r.returncode == 2 and "either --icb or --scope england" in r.stderr


def test_icb_row_of_a_footprint_view_names_that_icb(store):
    """build_table(by="icb") on a footprint view is that ICB's row (it was always labelled LSC)."""
    from geo.footprint import footprint
    from geo.report import build_table
    t = build_table(footprint(store, "E54000059"), "icb", vintage=2025)
    assert list(t["code"]) == ["E54000059"] and list(t["name"]) == ["NHS Northamptonshire ICB"]
    pop = store.lsoa21.loc[store.lsoa21["icb24cd"] == "E54000059", "pop2021"].sum()
    assert t["population"].iloc[0] == pop
