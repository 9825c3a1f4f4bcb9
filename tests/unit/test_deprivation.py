"""The deprivation engine against MHCLG's published IoD2019 File 10 LAD summaries,
and the definitions on small hand-built fixtures."""
import numpy as np
import pandas as pd
import pytest

from geo.deprivation import extent_weight, summarise


@pytest.fixture(scope="module")
def lad_table(store):
    t = summarise(store.england19, "lad19cd", measures=["imd", "income", "employment", "education", "health",
                                                        "crime", "barriers", "living_env"])
    off = store.lad19_official.set_index("lad19cd")
    return t.reindex(off.index), off


def test_all_317_districts_present(lad_table):
    t, off = lad_table
    assert len(off) == 317
    assert t["population"].notna().all()


def test_average_score_matches_mhclg_for_every_district(lad_table):
    t, off = lad_table
    diff = (t["imd_score"] - off["Score"]).abs()
    assert diff.max() <= 0.001, diff.idxmax()


def test_published_examples_blackpool_burnley_ribble_valley(lad_table):
    t, _ = lad_table
    assert round(t.loc["E06000009", "imd_score"], 3) == 45.039
    assert round(t.loc["E07000117", "imd_score"], 3) == 37.793
    assert round(t.loc["E07000124", "imd_score"], 3) == 10.594


def test_proportion_most_deprived_10pct_matches_mhclg(lad_table):
    t, off = lad_table
    assert (t["imd_prop_most_deprived_10"] - off["Proportion"]).abs().max() <= 0.0001


def test_extent_matches_mhclg(lad_table):
    t, off = lad_table
    assert (t["extent"] - off["Extent"]).abs().max() <= 0.0001


@pytest.mark.parametrize("domain,col", [("income", "Income"), ("employment", "Employment")])
def test_domain_scores_with_mhclg_denominators(lad_table, domain, col):
    t, off = lad_table
    assert (t[f"{domain}_score"] - off[f"{col}_Score"]).abs().max() <= 0.001


@pytest.mark.parametrize("domain,col", [("income", "Income"), ("employment", "Employment"),
                                        ("education", "Education"), ("health", "Health"), ("crime", "Crime"),
                                        ("barriers", "Housing_and_Access"), ("living_env", "Environment")])
def test_domain_proportions_match_mhclg(lad_table, domain, col):
    t, off = lad_table
    assert (t[f"{domain}_prop_most_deprived_10"] - off[f"{col}_Proportion"]).abs().max() <= 0.0001


def test_iod2025_local_concentration_and_average_rank_close_to_published(store):
    """IoD2025 LAD summaries use MHCLG's own (mid-2022) denominators, which are not staged;
    with Census 2021 residents the measures must still land close to the published ones,
    including MHCLG's reversed-rank convention (higher average rank = more deprived)."""
    import geo.sources as S
    from geo.build import read_csv
    pub = read_csv(S.source_dir() / "imd/iod2025_lad24_summaries_lsc.csv", ["ltla24_code"]).set_index("ltla24_code")
    l25 = store.lsoa25[store.lsoa25["lad19cd"].isin(["E06000009", "E07000117", "E07000123", "E07000124"])]
    t = summarise(l25, "lad19cd", pop="pop2021", vintage=2025)
    for code in t.index:
        assert abs(t.loc[code, "imd_score"] - pub.loc[code, "imd_average_score"]) < 0.5
        assert abs(t.loc[code, "avg_rank"] - pub.loc[code, "imd_average_rank"]) / pub.loc[code, "imd_average_rank"] < 0.02
        lc_pub = pub.loc[code, "imd25_local_concentration"]
        # local concentration sits near the top of the reversed scale: compare distance from N+1
        assert abs((33756 - t.loc[code, "local_concentration"]) - (33756 - lc_pub)) <= max(0.1 * (33756 - lc_pub), 25)


# ---------------------------------------------------------------- definitions on fixtures
def _fixture():
    return pd.DataFrame({
        "g": ["A", "A", "A", "B"],
        "imd_score": [50.0, 20.0, 10.0, 5.0],
        "imd_rank": [100, 5000, 20000, 30000],
        "imd_decile": [1, 2, 7, 10],
        "pop2015": [1000, 3000, 6000, 1500],
    })


def test_core20_and_weighted_score_on_fixture():
    t = summarise(_fixture(), "g", n_lsoa=32844)
    a = t.loc["A"]
    assert a["population"] == 10000
    assert a["imd_score"] == pytest.approx((50 * 1000 + 20 * 3000 + 10 * 6000) / 10000)
    assert a["core20_population"] == 4000 and a["pct_core20"] == pytest.approx(40.0)
    assert a["decile1_population"] == 1000
    assert a["pct_lsoas_most_deprived_10"] == pytest.approx(100 / 3)
    assert t.loc["B", "pct_core20"] == 0


def test_local_concentration_takes_exactly_ten_percent_of_population():
    n = 32844  # reported on MHCLG's reversed scale: N + 1 - rank
    # 10% of 10,000 = 1,000 people: exactly the rank-100 LSOA
    assert summarise(_fixture(), "g").loc["A", "local_concentration"] == pytest.approx(n + 1 - 100)
    f = _fixture()
    f.loc[0, "pop2015"] = 500  # now 9,500 people: 950 needed = 500 @100 + 450 @5000
    assert summarise(f, "g").loc["A", "local_concentration"] == pytest.approx(n + 1 - (500 * 100 + 450 * 5000) / 950)


def test_average_rank_uses_reversed_ranks():
    t = summarise(_fixture(), "g")
    assert t.loc["B", "avg_rank"] == 32844 + 1 - 30000


def test_extent_weights_slide_from_095_to_005():
    n = 1000
    w = extent_weight([1, 100, 101, 110, 300, 301, 1000], n)
    assert list(np.round(w, 4)) == [1.0, 1.0, 0.95, 0.95, 0.05, 0.0, 0.0]


def test_missing_population_is_an_error_not_a_silent_zero():
    f = _fixture()
    f["pop2015"] = f["pop2015"].astype("float64")
    f.loc[1, "pop2015"] = np.nan
    with pytest.raises(ValueError, match="population"):
        summarise(f, "g")
