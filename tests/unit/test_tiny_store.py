"""geo/ on the tiny synthetic store (tests/synthetic.py): no real data needed.

Every expected value is written out as arithmetic on the fixture's rows (see the tables
in tests/synthetic.py), never taken from the code under test, so a wrong weight, a
wrong denominator, a national decile swapped for a local one or a dropped ward fails.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.change import NOTES, change_since_2019
from geo.deprivation import N_LSOA
from geo.priority import CandidateRule, derive_candidates
from geo.report import build_table
from geo.store import STORE_VERSION

N19, N25 = N_LSOA[2019], N_LSOA[2025]     # 32,844 and 33,755 LSOAs in England


def w19(rank: int) -> float:
    """MHCLG's extent weight, by hand: percentile ceil(100 rank / N); 1 up to 10, then
    0.95 at 11 sliding by 0.9/19 a percentile to 0.05 at 30, 0 above."""
    pct = math.ceil(100 * rank / N19)
    return 1.0 if pct <= 10 else (0.95 - (pct - 11) * 0.9 / 19 if pct <= 30 else 0.0)


def rows(t: pd.DataFrame) -> dict:
    return t.set_index("code").to_dict("index")


def test_the_tiny_store_is_synthetic_and_loads_as_a_store(tiny_store):
    assert tiny_store.manifest["store_version"] == STORE_VERSION and tiny_store.manifest["synthetic"] is True
    assert set(tiny_store.manifest["tables"]) == {"lsoa", "england19", "lsoa25", "lsoa21", "lsoa11_lsoa21",
                                                  "wards24", "subicb"}
    assert all(c.startswith("E019") for c in tiny_store.england19["lsoa11cd"])
    assert all(n.startswith("Synthetic ward") for n in tiny_store.wards24["wd24nm"])
    assert tiny_store.lsoa.crs.to_epsg() == 4326 and len(tiny_store.lsoa) == 6
    assert tiny_store.has_england       # lsoa21 is there, so change_since_2019 can run


def test_ward_scores_are_population_weighted_and_core20_uses_national_deciles(tiny_store):
    t = build_table(tiny_store, "ward", vintage=2019)
    r = rows(t)
    a, b, c = r["E05900001"], r["E05900002"], r["E05900003"]
    assert a["name"] == "Synthetic ward A" and a["lad19nm"] == "Synthetic district North"
    assert a["population"] == 1000 + 3000
    assert a["imd_score"] == pytest.approx((60 * 1000 + 30 * 3000) / 4000)          # 37.5, not the mean 45
    assert b["imd_score"] == pytest.approx((20 * 2000 + 10 * 3000) / 5000)          # 14.0
    assert c["imd_score"] == pytest.approx((45 * 1500 + 5 * 500) / 2000)            # 35.0
    # Core20 = national deciles 1-2: all of A, none of B, the decile-1 LSOA of C
    assert a["pct_core20"] == pytest.approx(100.0) and a["core20_population"] == 4000
    assert b["pct_core20"] == 0 and b["core20_population"] == 0
    assert c["pct_core20"] == pytest.approx(100 * 1500 / 2000)
    assert a["pct_decile1"] == pytest.approx(100 * 1000 / 4000)
    assert a["pct_lsoas_most_deprived_10"] == pytest.approx(50.0)                   # 1 of 2 LSOAs, unweighted
    assert a["avg_rank"] == pytest.approx(N19 + 1 - (100 * 1000 + 5000 * 3000) / 4000)
    assert (a["imd_rank_in_lsc"], c["imd_rank_in_lsc"], b["imd_rank_in_lsc"]) == (1, 2, 3)


def test_a_ward_with_no_lsoa_is_listed_with_a_note_not_dropped(tiny_store):
    t = build_table(tiny_store, "ward", vintage=2019)
    assert list(t["code"]) == ["E05900001", "E05900002", "E05900003", "E05900004"]
    d = rows(t)["E05900004"]
    assert d["name"] == "Synthetic ward D" and d["population"] == 0 and d["n_lsoas"] == 0
    assert math.isnan(d["imd_score"]) and "no LSOA" in d["note"]
    assert (t["note"] != "").sum() == 1


def test_district_extent_average_rank_and_local_concentration_by_hand(tiny_store):
    r = rows(build_table(tiny_store, "district", vintage=2019))
    north, south = r["E06900001"], r["E07900002"]
    assert north["population"] == 9000 and north["n_lsoas"] == 4
    assert north["imd_score"] == pytest.approx((60 * 1000 + 30 * 3000 + 20 * 2000 + 10 * 3000) / 9000)
    assert north["pct_core20"] == pytest.approx(100 * 4000 / 9000)
    assert north["avg_rank"] == pytest.approx(N19 + 1 - (100 * 1000 + 5000 * 3000 + 9000 * 2000 + 20000 * 3000) / 9000)
    # ranks 100, 5000, 9000, 20000 sit in national percentiles 1, 16, 28, 61
    assert (w19(100), w19(9000), w19(20000)) == (1.0, pytest.approx(0.95 - 17 * 0.9 / 19), 0.0)
    assert north["extent"] == pytest.approx((1000 * 1.0 + 3000 * w19(5000) + 2000 * w19(9000)) / 9000)
    assert north["extent"] == pytest.approx((1000 + 3000 * (0.95 - 5 * 0.9 / 19) + 2000 * (0.95 - 17 * 0.9 / 19)) / 9000)
    # the most deprived 10% of North's people (900) all live in the rank-100 LSOA
    assert north["local_concentration"] == pytest.approx(N19 + 1 - 100)
    # South: 10% = 200 people, all in the rank-1500 LSOA; extent counts its 1,500 of 2,000
    assert south["local_concentration"] == pytest.approx(N19 + 1 - 1500)
    assert south["extent"] == pytest.approx(1500 / 2000)
    assert south["name"] == "Synthetic district South"


def test_population_option_changes_the_weights(tiny_store):
    a = rows(build_table(tiny_store, "ward", vintage=2019, population="mid2019"))["E05900001"]
    assert a["population"] == 1100 + 3100
    assert a["imd_score"] == pytest.approx((60 * 1100 + 30 * 3100) / 4200)
    assert a["population_basis"].startswith("ONS mid-2019")


def test_places_subicbs_and_the_whole_footprint(tiny_store):
    p5 = rows(build_table(tiny_store, "place", vintage=2019, grouping="place5"))
    assert set(p5) == {"Synthetic place P", "Synthetic place R"}
    assert p5["Synthetic place P"]["population"] == 9000
    all_score = (60 * 1000 + 30 * 3000 + 20 * 2000 + 10 * 3000 + 45 * 1500 + 5 * 500) / 11000
    p4 = rows(build_table(tiny_store, "place", vintage=2019, grouping="place4"))
    assert list(p4) == ["Synthetic place Q"]
    assert p4["Synthetic place Q"]["imd_score"] == pytest.approx(all_score)
    assert p4["Synthetic place Q"]["pct_core20"] == pytest.approx(100 * (1000 + 3000 + 1500) / 11000)
    sub = rows(build_table(tiny_store, "subicb", vintage=2019))
    assert sub["99A"]["name"] == "Synthetic sub-ICB North" and sub["99B"]["population"] == 2000
    icb = build_table(tiny_store, "icb", vintage=2019)
    assert len(icb) == 1 and icb.loc[0, "imd_score"] == pytest.approx(all_score)


def test_england_scope_reads_every_england_lsoa(tiny_store):
    eng = build_table(tiny_store, "england", scope="england", vintage=2019)
    assert eng.loc[0, "code"] == "E92000001" and eng.loc[0, "population"] == 15000
    assert eng.loc[0, "imd_score"] == pytest.approx((290000 + 70 * 1000 + 8 * 3000) / 15000)
    assert eng.loc[0, "pct_core20"] == pytest.approx(100 * (5500 + 1000) / 15000)
    d = rows(build_table(tiny_store, "district", scope="england", vintage=2019))
    assert d["E08900003"]["name"] == "Synthetic district Elsewhere"
    assert d["E08900003"]["imd_score"] == pytest.approx((70 * 1000 + 8 * 3000) / 4000)


def test_iod2025_wards_use_census_2021_and_2021_lsoas(tiny_store):
    t = build_table(tiny_store, "ward", vintage=2025)
    r = rows(t)
    a, c = r["E05900001"], r["E05900003"]
    assert a["population"] == 1100 + 2900 and a["vintage"] == "IoD2025"
    assert a["imd_score"] == pytest.approx((58 * 1100 + 26 * 2900) / 4000)
    assert a["pct_core20"] == pytest.approx(100 * 1100 / 4000)     # E01900002 moved to decile 3 in 2025
    assert a["avg_rank"] == pytest.approx(N25 + 1 - (150 * 1100 + 8000 * 2900) / 4000)
    assert c["imd_score"] == pytest.approx((50 * 800 + 40 * 900 + 6 * 600) / 2300)
    assert c["pct_core20"] == pytest.approx(100 * (800 + 900) / 2300)
    l = rows(build_table(tiny_store, "lsoa", vintage=2025))
    assert l["E01900901"]["name"] == "Synthetic LSOA 2021 901" and l["E01900901"]["population"] == 4200


def test_priority_candidates_from_the_ward_table(tiny_store):
    t = build_table(tiny_store, "ward", vintage=2019)
    top = derive_candidates(t, CandidateRule(n=1, per="place5", measure="pct_core20"))
    assert list(zip(top["group"], top["code"])) == [("Synthetic place P", "E05900001"), ("Synthetic place R", "E05900003")]
    assert list(top["value"]) == [pytest.approx(100.0), pytest.approx(75.0)]
    by_score = derive_candidates(t, CandidateRule(n=2, per="icb", measure="imd_score"))
    assert list(by_score["code"]) == ["E05900001", "E05900003"]           # 37.5 and 35.0 beat 14.0
    big = derive_candidates(t, CandidateRule(n=1, per="place5", min_population=3000))
    assert list(big["code"]) == ["E05900001"]                             # C has 2,000 people, D none


def test_change_since_2019_weights_merged_parents_by_population(tiny_store):
    ch = change_since_2019(tiny_store)
    assert set(ch.index) == {"E01900001", "E01900002", "E01900901", "E01900902", "E01900903", "E01900006"}
    u = ch.loc["E01900002"]
    assert (u["chgind"], u["imd_decile_2019"], u["imd_decile_2025"], u["decile_change"]) == ("U", 2, 3, 1)
    assert u["direction"] == "relatively less deprived" and bool(u["comparable"]) and u["note"] == ""
    m = ch.loc["E01900901"]             # E01900003 (2,000 people) + E01900004 (3,000) merged
    assert m["chgind"] == "M" and m["n_lsoa11"] == 2 and m["lsoa11cds"] == "E01900003; E01900004"
    assert m["imd_rank_2019"] == pytest.approx((9000 * 2000 + 20000 * 3000) / 5000)
    assert m["imd_score_2019"] == pytest.approx((20 * 2000 + 10 * 3000) / 5000)
    assert (m["imd_decile_2019_min"], m["imd_decile_2019_max"]) == (3, 7)
    assert m["imd_decile_2019"] == math.floor((3 * 2000 + 7 * 3000) / 5000 + 0.5)   # 5.4 -> 5
    assert m["decile_change"] == 0 and m["direction"] == "same decile"
    assert not m["comparable"] and m["note"] == NOTES["M"]
    for part in ("E01900902", "E01900903"):   # both halves of the split E01900005 take its 2019 values
        s = ch.loc[part]
        assert (s["chgind"], s["imd_rank_2019"], s["imd_score_2019"], s["imd_decile_2019"]) == ("S", 1500, 45, 1)
        assert s["note"] == NOTES["S"]
