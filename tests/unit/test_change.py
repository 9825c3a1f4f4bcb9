"""geo.change: per-LSOA-2021 change since IoD2019 through the ONS 2011 -> 2021 lookup."""
import pandas as pd
import pytest

from geo.change import change_since_2019, change_table


def test_fixture_unchanged_split_merged():
    pairs = pd.DataFrame({"lsoa11cd": ["U1", "S1", "S1", "M1", "M2"], "lsoa21cd": ["U1", "S1a", "S1b", "M", "M"],
                          "chgind": ["U", "S", "S", "M", "M"]})
    iod19 = pd.DataFrame({"lsoa11cd": ["U1", "S1", "M1", "M2"], "pop2015": [1500, 3000, 1000, 3000],
                          "imd_rank": [100, 5000, 2000, 6000], "imd_decile": [1, 2, 1, 2],
                          "imd_score": [60.0, 30.0, 40.0, 28.0]})
    iod25 = pd.DataFrame({"lsoa21cd": ["U1", "S1a", "S1b", "M"], "imd_rank": [4000, 5000, 9000, 3000],
                          "imd_decile": [2, 2, 3, 1], "imd_score": [35.0, 31.0, 22.0, 38.0]})
    c = change_table(pairs, iod19, iod25)
    assert list(c.index) == ["U1", "S1a", "S1b", "M"]
    assert c.loc["U1", "imd_decile_2019"] == 1 and c.loc["U1", "decile_change"] == 1 and c.loc["U1", "comparable"]
    assert c.loc["U1", "direction"] == "relatively less deprived"
    assert c.loc["S1b", "imd_decile_2019"] == 2 and c.loc["S1b", "chgind"] == "S" and not c.loc["S1b", "comparable"]
    m = c.loc["M"]
    assert m["n_lsoa11"] == 2 and m["lsoa11cds"] == "M1; M2" and m["chgind"] == "M"
    assert m["imd_score_2019"] == pytest.approx((40 * 1000 + 28 * 3000) / 4000)
    assert m["imd_rank_2019"] == pytest.approx((2000 * 1000 + 6000 * 3000) / 4000)
    assert (m["imd_decile_2019_min"], m["imd_decile_2019_max"], m["imd_decile_2019"]) == (1, 2, 2)
    assert m["decile_change"] == -1 and "merged" in m["note"]


def test_real_lsc_change(store):
    c = change_since_2019(store, "E54000048")
    assert len(c) == 1060 and c.index.is_unique
    assert set(c["chgind"]) <= {"U", "S", "M", "X"}
    u = c[c["chgind"] == "U"]
    e19 = store.england19.set_index("lsoa11cd")
    assert (u["imd_decile_2019"] == e19.loc[u.index, "imd_decile"]).all()  # same code, same area
    cur = store.lsoa21.set_index("lsoa21cd")
    assert (c["imd_decile_2025"] == cur.loc[c.index, "imd_decile"]).all()
    assert (c["decile_change"] == c["imd_decile_2025"] - c["imd_decile_2019"]).all()
    raw = store.lsoa11_lsoa21
    raw = raw[raw["lsoa21cd"].isin(set(c.index))].drop_duplicates("lsoa21cd").set_index("lsoa21cd")
    assert (c.loc[c["chgind"] != "X", "chgind"] == raw.loc[c.index[c["chgind"] != "X"], "chgind"]).all()


def test_real_england_change_covers_every_lsoa(store, real_source):
    c = change_since_2019(store)
    assert len(c) == 33755 and c["imd_decile_2019"].between(1, 10).all()
    raw = pd.read_csv(real_source / "lookups/lsoa11_lsoa21_lad22_england.csv")
    assert c["chgind"].value_counts()["U"] == (raw["CHGIND"] == "U").sum()
    assert c["n_lsoa11"].sum() == len(raw)  # every 2011 -> 2021 pair used once
