"""Indicator import on the staged real indicators: match counts per code vintage,
lookups, comparators, aggregation and the deprivation cross-view. Expected numbers
are computed from the source files themselves, never typed in."""
import numpy as np
import pandas as pd
import pytest

from geo import indicators as I


@pytest.fixture(scope="module")
def census_raw(real_source):
    return pd.read_csv(real_source / "indicators" / "census2021_ward_health_disability_carers_lancashire14.csv")


@pytest.fixture(scope="module")
def fingertips_raw(real_source):
    return pd.read_csv(real_source / "indicators" / "fingertips_lad_health_indicators_lancashire14.csv")


@pytest.mark.parametrize("vintage,flag", [("2019", "code_in_wd19"), ("2024", "code_in_wd24")])
def test_census_ward_match_counts_per_vintage(store, census_raw, vintage, flag):
    d = I.load_builtin("census_ward", store, ward_vintage=vintage)
    rep = d.report
    n19, n24 = int(census_raw.code_in_wd19.sum()), int(census_raw.code_in_wd24.sum())
    assert rep.vintage_matches == {"Ward Dec-2019": n19, "Ward May-2024": n24}
    assert rep.matched_codes == int(census_raw[flag].sum())
    assert rep.matched_rows == int(census_raw[flag].sum())
    assert rep.n_target_areas == len(store.wards19 if vintage == "2019" else store.wards24)
    # every file row is either matched or listed as unmatched with a reason
    assert rep.matched_rows + len(rep.unmatched) == len(census_raw)
    other = "code_in_wd24" if vintage == "2019" else "code_in_wd19"
    in_other = census_raw[~census_raw[flag] & census_raw[other]]
    neither = census_raw[~census_raw.code_in_wd19 & ~census_raw.code_in_wd24]
    reasons = {u["code"]: u["reason"] for u in rep.unmatched}
    for c in in_other.ward_code:
        assert "choose ward vintage" in reasons[c]
    for c, nm in zip(neither.ward_code, neither.ward_name):
        assert "neither the Dec-2019 nor the May-2024" in reasons[c]
        # the same-name May-2024 ward is offered as a hint, not silently used
        wd24 = store.wards24
        if (wd24.wd24nm == nm).any():
            assert wd24.loc[wd24.wd24nm == nm, "wd24cd"].iloc[0] in reasons[c]
            assert "not mapped" in reasons[c]


def test_census_auto_vintage_is_the_one_most_codes_match(store, census_raw):
    d = I.load_builtin("census_ward", store)
    best = "wd19" if census_raw.code_in_wd19.sum() > census_raw.code_in_wd24.sum() else "wd24"
    assert d.target == best


def test_census_values_counts_and_intervals(store, census_raw):
    d = I.load_builtin("census_ward", store)
    raw = census_raw.set_index("ward_code")
    for ind in ["pct_bad_or_very_bad_health", "pct_disabled_equality_act", "pct_provides_unpaid_care",
                "pct_provides_50plus_hours_unpaid_care", "pct_very_good_or_good_health"]:
        v = d.values(ind)
        assert (v.status == "ok").all()
        # recomputed from the counts = the file's own published-% column (2 dp)
        assert (v["value"] - raw.loc[v.index, ind]).abs().max() <= 0.0051
        assert (v["lower"] < v["value"]).all() and (v["value"] < v["upper"]).all()
        assert (v["count"] <= v["denominator"]).all()
    lsc, how = d.comparator("pct_bad_or_very_bad_health", "Census 2021", "LSC")
    bad = raw["general_health: Bad health"] + raw["general_health: Very bad health"]
    assert lsc == pytest.approx(bad.sum() / raw["census2021_residents_general_health_total"].sum() * 100)
    assert "pooled" in how


def test_fingertips_districts_and_comparators(store, fingertips_raw):
    d = I.load_builtin("fingertips_lad", store)
    assert d.family == "district" and d.target == "lad19"
    assert d.report.matched_codes == fingertips_raw.lad_code.nunique()
    assert d.report.matched_rows == len(fingertips_raw)
    assert d.report.n_target_areas == len(store.districts)
    missing = set(store.districts.lad19cd) - set(fingertips_raw.lad_code)
    assert missing  # Barrow-in-Furness and South Lakeland are not in the staged file
    for ind, g in fingertips_raw.groupby("indicator_key"):
        for per, gp in g.groupby("period"):
            eng, how = d.comparator(ind, per, "England")
            assert eng == gp.england_value.iloc[0] and "england value" in how
            reg, _ = d.comparator(ind, per, "Region")
            assert reg == gp.nw_value.iloc[0]
    # periods differ between districts for some indicators: a single period never mixes them
    ind = fingertips_raw.groupby("indicator_key").period.nunique().idxmax()
    latest = d.latest_period(ind)
    v = d.values(ind, latest)
    assert set(v.index) == set(fingertips_raw[(fingertips_raw.indicator_key == ind) &
                                              (fingertips_raw.period == latest)].lad_code)
    assert d.meta["life_expectancy_male"]["polarity"] == "higher_is_better"
    assert d.meta["smoking_prevalence"]["polarity"] == "higher_is_worse"


def test_iod2025_lsoa21_codes_mapped_through_ons_lookup(store, real_source):
    d = I.load_builtin("iod2025", store)
    bf = pd.read_csv(real_source / "lookups" / "lsoa11_to_lsoa21_lad2022_bestfit_ons_lsc.csv")
    l21 = set(store.lsoa25.lsoa21cd)
    l11 = set(store.lsoa.lsoa11cd)
    gone = bf[~bf.LSOA11CD.isin(l21)]                # 2011 polygons whose code did not survive
    rep = d.report
    assert rep.detected == "lsoa21" and rep.target == "lsoa11"
    assert rep.vintage_matches == {"LSOA 2011": len(l21 & l11), "LSOA 2021": len(l21)}
    assert {m["code"] for m in rep.mapped} == set(gone.LSOA21CD)
    v = d.values("iod2025_imd_score")
    assert set(v.index) == l11                        # every 2011 polygon gets a value
    mapped = v[v.mapped_via != ""]
    assert set(mapped.index) == set(gone.LSOA11CD)
    src = store.lsoa25.set_index("lsoa21cd")["imd_score"]
    for c11, c21 in zip(gone.LSOA11CD, gone.LSOA21CD):
        assert v.loc[c11, "value"] == src[c21]
    not_drawn = l21 - l11 - set(gone.LSOA21CD)
    assert {u["code"] for u in rep.unmatched} == not_drawn
    assert all("no 2011 polygon" in u["reason"] for u in rep.unmatched)
    icb, how = d.comparator("iod2025_imd_score", "IoD2025", "ICB")
    off = pd.read_csv(real_source / "imd" / "iod2025_icb24_summaries_england.csv").set_index("icb24_code")
    assert icb == off.loc["E54000048", "imd_average_score"] and "official" in how


def test_iod2019_domains_as_indicators_and_district_aggregation_matches_mhclg(store):
    d = I.load_builtin("iod2019", store)
    assert d.report.matched_codes == len(store.lsoa) and not d.report.unmatched
    keys = d.indicators()
    assert "iod2019_imd_score" in keys and "iod2019_health_rank" in keys
    by_d = I.aggregate(d, "district", store)
    v = by_d.values("iod2019_imd_score").sort_index()
    off = store.lad19_official.set_index("lad19cd").loc[v.index, "Score"]
    # population-weighted (mid-2015) LSOA scores reproduce MHCLG's File 10 district averages
    assert (v["value"] - off).abs().max() <= 0.001
    assert v["note"].str.contains("population-weighted").all()


def test_census_aggregated_to_districts_pools_counts(store, census_raw):
    d = I.load_builtin("census_ward", store, ward_vintage="2019")
    agg = I.aggregate(d, "district", store).values("pct_bad_or_very_bad_health")
    raw = census_raw.copy()
    raw["bad"] = raw["general_health: Bad health"] + raw["general_health: Very bad health"]
    # districts whose every Dec-2019 ward is in the file get a pooled value
    w19 = store.wards19
    for lad, g in raw.groupby("lad_code"):
        complete = set(w19[w19.lad19cd == lad].wd19cd) <= set(g.ward_code)
        if complete:
            exp = g.bad.sum() / g.census2021_residents_general_health_total.sum() * 100
            assert agg.loc[lad, "value"] == pytest.approx(exp)
            assert agg.loc[lad, "status"] == "ok"
        else:
            assert agg.loc[lad, "status"] != "ok" and "incomplete" in agg.loc[lad, "note"]


def test_by_imd_decile_cross_view(store):
    d = I.load_builtin("iod2019", store)
    x = I.by_imd_decile(d, "iod2019_income_score", None, store)
    assert x["n_areas"].sum() == len(store.lsoa)
    assert x.set_index("imd_decile")["n_areas"].to_dict() == store.lsoa.imd_decile.value_counts().to_dict() | {
        k: 0 for k in range(1, 11) if k not in set(store.lsoa.imd_decile)}
    vals = x.set_index("imd_decile")["value"].dropna()
    assert vals.is_monotonic_decreasing      # income deprivation falls from decile 1 to 10
    c = I.load_builtin("census_ward", store)
    xc = I.by_imd_decile(c, "pct_bad_or_very_bad_health", None, store)
    assert xc["n_areas"].sum() == (c.values("pct_bad_or_very_bad_health").status == "ok").sum()
    assert (xc["method"][xc.n_areas > 0] == "pooled").all()


def test_lower_level_cannot_be_made_from_higher(store):
    d = I.load_builtin("fingertips_lad", store)
    with pytest.raises(I.UsageError, match="not split"):
        I.aggregate(d, "ward", store)


def test_code_kind():
    assert I.code_kind("E01012571") == "lsoa"
    assert I.code_kind("e05001643 ") == "ward"
    assert I.code_kind("E07000117") == "district"
    assert I.code_kind("00Q") == "subicb_ods"
    assert I.code_kind("E92000001") == "england"
    assert I.code_kind("hello") == "unknown"


@pytest.mark.parametrize("raw,expected", [("12.5", (12.5, "ok")), ("1,234", (1234.0, "ok")), ("*", "suppressed"),
                                          ("..", "suppressed"), ("c", "suppressed"), ("", "missing"),
                                          ("abc", "invalid"), ("12%", (12.0, "ok")), ("inf", "invalid")])
def test_parse_number(raw, expected):
    v, st = I.parse_number(raw)
    if isinstance(expected, tuple):
        assert (v, st) == expected
    else:
        assert st == expected and np.isnan(v)


def test_ward_profile_rows_with_cis_and_comparators(store, census_raw):
    census24 = I.load_builtin("census_ward", store, ward_vintage="2024")
    ft = I.load_builtin("fingertips_lad", store)
    w = store.wards24
    in_census = w[w.wd24cd.isin(census_raw.ward_code)]
    code = in_census.wd24cd.iloc[0]
    t = I.ward_profile_rows([census24, ft], code, store)
    ward_rows = t[t.Level == "Ward"]
    assert len(ward_rows) == len(census24.indicators())
    raw = census_raw.set_index("ward_code").loc[code]
    bad = ward_rows[ward_rows.Indicator == census24.meta["pct_bad_or_very_bad_health"]["label"]].iloc[0]
    assert abs(bad.Value - raw.pct_bad_or_very_bad_health) <= 0.0051
    assert bad["Lower 95% CI"] < bad.Value < bad["Upper 95% CI"]
    assert bad.LSC == census24.comparator("pct_bad_or_very_bad_health", "Census 2021", "LSC")[0]
    lad = in_census.lad19cd.iloc[0]
    dist = t[t.Level.str.startswith("District")]
    assert len(dist) == len(ft.indicators()) and (dist.Note == "district value (no ward-level data)").all()
    le = dist[dist.Indicator == "Life expectancy at birth (male)"].iloc[0]
    v = ft.values("life_expectancy_male").loc[lad]
    assert le.Value == v.value and le.England == ft.comparator("life_expectancy_male", le.Period, "England")[0]
    exp = ("lower = worse" if v.upper < le.England else "higher = better" if v.lower > le.England
           else "similar (95% CI includes it)")
    assert le["Compared with England"] == exp
    # a May-2024 ward whose code is not in the Census file says why instead of inventing a value
    other = w[~w.wd24cd.isin(census_raw.ward_code) & w.lad19cd.isin(census_raw.lad_code)].wd24cd.iloc[0]
    t2 = I.ward_profile_rows([census24], other, store)
    assert t2.Value.isna().all() and t2.Note.str.contains("2022 ward codes").all()
    with pytest.raises(I.UsageError):
        I.ward_profile_rows([census24], "E05999999", store)


@pytest.mark.parametrize("value,lo,hi,comp,pol,exp", [
    (10, 8, 12, 9, "higher_is_worse", "similar (95% CI includes it)"),
    (10, 9.5, 12, 9, "higher_is_worse", "higher = worse"),
    (10, 9.5, 12, 9, "higher_is_better", "higher = better"),
    (5, 4, 6, 9, "higher_is_better", "lower = worse"),
    (5, 4, 6, 9, "neutral", "lower"),
    (5, None, None, 9, "neutral", "no CI: not tested")])
def test_compare_to(value, lo, hi, comp, pol, exp):
    assert I.compare_to(value, lo, hi, comp, pol) == exp
