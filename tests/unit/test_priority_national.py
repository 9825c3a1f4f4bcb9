"""Priority & exemplar wards for any ICB: the NHSE/I 2021 list on real data, the 2019 -> 2024
ward mapping, the local list taking over when filled, and unmappable wards kept."""
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from geo.paths import ROOT
from geo.priority import NOT_DRAWN, NHSEI_LIST, listed_ward_rows, priority_list
from geo.wardmap import pair_weights, ward19_to_ward24


def geo_cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_lsc_33_priority_11_exemplar(store, real_source):
    lw = priority_list(store, "E54000048", which="nhsei")
    assert lw.wards["status"].value_counts().to_dict() == {"Priority": 33, "Exemplar": 11}
    raw = pd.read_csv(real_source / "priority/nhsei_priority_exemplar_wards_2021_england.csv")
    raw = raw[raw["STP"] == "Healthier Lancashire and South Cumbria"]
    assert set(lw.wards["wd19cd"]) == set(raw["WD19CD"])
    assert lw.name == "NHSE/I 2021" and lw.ward_vintage.startswith("WD19") and "British Red Cross" in lw.source
    assert len(lw.shapes) == 44 and lw.shapes["approximate_geometry"].all()


def test_northamptonshire_15_priority(store):
    lw = priority_list(store, "northamptonshire")
    assert lw.wards["status"].value_counts().to_dict() == {"Priority": 15}
    assert lw.wards["drawn"].all() and (lw.wards["wd24cd"].str.startswith("E05")).all()


def test_every_listed_ward_is_in_exactly_one_icb(store):
    lw = priority_list(store, "england")
    assert len(lw.wards) == 838
    per_icb = sum(len(priority_list(store, c).wards) for c in store.icb["icb24cd"])
    assert per_icb == 838


def test_2024_ward_shares_add_up_and_follow_census_population(store):
    lw = priority_list(store, "E54000048")
    m = lw.mapping
    assert m.groupby("wd19cd")["share"].sum().sub(1).abs().max() < 1e-9
    # a 2019 ward whose code is unchanged in 2024 maps (almost) wholly to itself
    same = lw.wards[lw.wards["wd19cd"] == lw.wards["wd24cd"]]
    assert len(same) > 10 and (same["wd24_share"] > 0.5).all() and same["wd24_share"].median() == 1.0
    # attributed people add up to the Census 2021 population of the ward's LSOAs' successors
    top = lw.wards.iloc[0]
    assert top["population2021"] == round(m[m["wd19cd"] == top["wd19cd"]]["pop2021"].sum())


def test_priority_cli_csv_and_json(store):
    r = geo_cli("priority", "--icb", "E54000059", "--format", "csv")
    t = pd.read_csv(io.StringIO(r.stdout))
    assert len(t) == 15 and set(t["list"]) == {"NHSE/I 2021"} and (t["status"] == "Priority").all()
    assert {"wd19cd", "wd19nm", "wd24cd", "wd24nm", "wd24_share", "wd24_wards", "list_date", "ward_vintage"} <= set(
        t.columns)
    assert "15 priority + 0 exemplar" in r.stderr
    j = json.loads(geo_cli("priority", "--icb", "lancashire", "--format", "json").stdout)
    assert j["list"]["name"] == "NHSE/I 2021" and j["counts"] == {"Priority": 33, "Exemplar": 11}
    assert all(abs(sum(x["share"] for x in w["wd24"]) - 1) < 1e-3 for w in j["wards"])
    bad = geo_cli("priority", "--icb", "Atlantis", check=False)
    assert bad.returncode == 2 and "closest:" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_filled_local_list_wins_for_lsc_only(store, tmp_path):
    w = store.wards24
    codes = w["wd24cd"].iloc[:3].tolist()
    cfg = tmp_path / "pw.yaml"
    cfg.write_text("schema_version: 1\nicb_list:\n  name: Local list\n  source: Board paper\n  date: 2024-03-01\n"
                   f"  wards: [{codes[0]}, {codes[1]}, E05999999]\nexemplar_list:\n  wards: [{codes[2]}]\n")
    lw = priority_list(store, "E54000048", cfg)
    assert lw.kind == "local" and lw.name == "Local list" and lw.date == "2024-03-01"
    assert lw.wards["wd24cd"].tolist() == codes and lw.wards["status"].tolist() == ["Priority"] * 2 + ["Exemplar"]
    assert [p.value for p in lw.problems] == ["E05999999"]  # reported, not silently dropped
    assert len(lw.shapes) == 3 and not lw.shapes["approximate_geometry"].any()
    assert priority_list(store, "E54000048", cfg, which="nhsei").kind == "national"
    assert priority_list(store, "E54000059", cfg).kind == "national"


# ---------------------------------------------------------------- fixtures
def test_listed_ward_without_lsoa_is_kept_with_a_reason():
    listed = pd.DataFrame({"wd19cd": ["E05000001", "E05000002"], "wd19nm": ["Big", "Tiny"],
                           "status": ["Priority", "Exemplar"], "lad19nm": ["A", "A"], "n_lsoa11_bestfit": [3, 0]})
    m = pd.DataFrame({"wd19cd": ["E05000001", "E05000001"], "wd19nm": ["Big", "Big"],
                      "wd24cd": ["E05100001", "E05100002"], "wd24nm": ["New", "Other"], "icb24cd": ["X", "X"],
                      "pop2021": [750.0, 250.0], "share": [0.75, 0.25], "n_lsoa21": [3, 1]})
    out = listed_ward_rows(listed, m, NHSEI_LIST).set_index("wd19cd")
    assert len(out) == 2
    assert out.loc["E05000001", "wd24cd"] == "E05100001" and out.loc["E05000001", "wd24_share"] == 0.75
    assert out.loc["E05000001", "wd24_wards"] == "E05100001 New 75%; E05100002 Other 25%"
    assert out.loc["E05000001", "population2021"] == 1000
    tiny = out.loc["E05000002"]
    assert not tiny["drawn"] and tiny["note"] == NOT_DRAWN and tiny["status"] == "Exemplar"


def test_ward_mapping_splits_and_merges_on_a_fixture():
    # A (WD19 w1) split into a1, a2 (different 2024 wards); B, C (w1, w2) merged into bc
    l11 = pd.DataFrame({"lsoa11cd": ["A", "B", "C"], "wd19cd": ["w1", "w1", "w2"], "wd19nm": ["W1", "W1", "W2"],
                        "pop2015": [1000, 300, 100]})
    pairs = pd.DataFrame({"lsoa11cd": ["A", "A", "B", "C"], "lsoa21cd": ["a1", "a2", "bc", "bc"]})
    l21 = pd.DataFrame({"lsoa21cd": ["a1", "a2", "bc"], "pop2021": [600, 600, 800],
                        "wd24cd": ["v1", "v2", "v1"], "wd24nm": ["V1", "V2", "V1"], "icb24cd": ["I", "I", "I"]})
    assert pair_weights(pairs, l11.set_index("lsoa11cd")["pop2015"]).tolist() == [1.0, 1.0, 0.75, 0.25]
    m = ward19_to_ward24(l11, pairs, l21).set_index(["wd19cd", "wd24cd"])
    assert m.loc[("w1", "v1"), "pop2021"] == pytest.approx(600 + 0.75 * 800)
    assert m.loc[("w1", "v2"), "pop2021"] == pytest.approx(600)
    assert m.loc[("w1", "v1"), "share"] == pytest.approx(1200 / 1800)
    assert m.loc[("w2", "v1"), "share"] == pytest.approx(1.0) and m.loc[("w2", "v1"), "pop2021"] == 200
