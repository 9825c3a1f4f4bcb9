"""geo.classify on the staged real indicators: breaks agree with mapclassify, missing
values are counted, diverging palettes are centred on the comparator, polarity flips."""
import warnings

import mapclassify as mc
import numpy as np
import pytest

from geo import classify as C
from geo import indicators as I


@pytest.fixture(scope="module")
def census(store):
    return I.load_builtin("census_ward", store)


@pytest.fixture(scope="module")
def census24(store):
    return I.load_builtin("census_ward", store, ward_vintage="2024")


@pytest.fixture(scope="module")
def iod19(store):
    return I.load_builtin("iod2019", store)


@pytest.fixture(scope="module")
def fingertips(store):
    return I.load_builtin("fingertips_lad", store)


def _ok_values(data, ind):
    v = data.values(ind)
    return v.loc[v.status == "ok", "value"].to_numpy(float)


REAL = [("census", "pct_bad_or_very_bad_health"), ("census", "pct_provides_unpaid_care"),
        ("iod19", "iod2019_imd_score"), ("iod19", "iod2019_income_score"),
        ("fingertips", "life_expectancy_male"), ("fingertips", "smoking_prevalence")]


@pytest.mark.real_data
@pytest.mark.parametrize("fixture,ind", REAL)
@pytest.mark.parametrize("k", [3, 5])
def test_natural_breaks_identical_to_mapclassify_fisher_jenks(request, fixture, ind, k):
    y = _ok_values(request.getfixturevalue(fixture), ind)
    assert len(y) >= 10
    ours = C.classify(y, "natural_breaks", k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mc.FisherJenks(y, k=k)
    np.testing.assert_array_equal(ours.bins, ref.bins)
    np.testing.assert_array_equal(ours.yb, ref.yb)
    assert list(ours.counts) == ref.counts.tolist()


@pytest.mark.real_data
@pytest.mark.parametrize("fixture,ind", REAL)
def test_quantiles_equal_interval_fixed_agree_with_mapclassify(request, fixture, ind):
    y = _ok_values(request.getfixturevalue(fixture), ind)
    for method, ref in (("quantiles", mc.Quantiles(y, k=5)), ("equal_interval", mc.EqualInterval(y, k=5))):
        ours = C.classify(y, method, 5)
        np.testing.assert_allclose(ours.bins, ref.bins)
        np.testing.assert_array_equal(ours.yb, ref.yb)
    t = [float(np.percentile(y, 30)), float(np.percentile(y, 70))]
    ours = C.classify(y, "fixed", thresholds=t)
    ref = mc.UserDefined(y, t)
    np.testing.assert_allclose(ours.bins, ref.bins)
    np.testing.assert_array_equal(ours.yb, ref.yb)


def test_missing_values_counted_on_all_polygons(census24, store):
    """Census ward values drawn on the 277 May-2024 wards: every ward without a value is a
    missing class (-1) and counted; the legend's 'No data' row carries that count."""
    ind = "pct_bad_or_very_bad_health"
    v = census24.values(ind)
    codes = store.wards24["wd24cd"].tolist()
    vals = v["value"].reindex(codes).to_numpy(float)
    cls = C.classify(vals, "quantiles", 5)
    expected_missing = sum(1 for c in codes if c not in v.index or v.loc[c, "status"] != "ok")
    assert cls.n_missing == expected_missing > 0
    assert (cls.yb == -1).sum() == expected_missing
    assert sum(cls.counts) + cls.n_missing == len(codes)
    rows = C.legend_rows(cls, C.palette(cls), n_suppressed=0)
    assert rows[-1]["kind"] == "missing" and rows[-1]["count"] == expected_missing
    assert sum(r["count"] for r in rows if r["kind"] == "class") == len(codes) - expected_missing


def test_suppressed_counted_apart_from_missing():
    vals = np.array([1.0, 2.0, 3.0, 4.0, np.nan, np.nan, np.nan, 5.0])
    suppressed = np.array([False] * 4 + [True, True, False, False])
    cls = C.classify(vals, "equal_interval", 2)
    rows = C.legend_rows(cls, C.palette(cls), n_suppressed=int(suppressed.sum()))
    by = {r["kind"]: r for r in rows}
    assert by["suppressed"]["count"] == 2 and by["missing"]["count"] == 1
    assert by["suppressed"]["colour"] not in C.palette(cls)


def _ramp_pos(colour, ramp):
    """Position of a colour on the ramp by nearest RGB (our colours are interpolated)."""
    def rgb(h):
        return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], float)
    dense = [C._lerp_hex(ramp, t) for t in np.linspace(0, 1, 401)]
    d = [np.abs(rgb(colour) - rgb(x)).sum() for x in dense]
    return np.linspace(0, 1, 401)[int(np.argmin(d))]


@pytest.mark.parametrize("polarity", ["higher_is_worse", "higher_is_better"])
def test_diverging_palette_centred_on_england_value(iod19, polarity):
    ind = "iod2019_imd_score"
    y = _ok_values(iod19, ind)
    england, how = iod19.comparator(ind, "IoD2019", "England")
    assert england is not None and "32,844" in how
    assert y.min() < england < y.max()
    cls = C.classify(y, "quantiles", 6, centre=england)
    assert england in cls.bins                       # the comparator is a class boundary
    nb = cls.n_below_centre()
    assert nb == int((cls.bins <= england).sum()) and 0 < nb < cls.k
    # every value at or below the comparator is in a class at/below the centre
    assert (cls.yb[y <= england] < nb).all() and (cls.yb[y > england] >= nb).all()
    cols = C.palette(cls, "diverging", "RdBu", polarity)
    ramp = C.DIVERGING["RdBu"]
    pos = [_ramp_pos(c, ramp) for c in cols]
    # RdBu low end is red (warm = worse): below-centre classes are blue when higher is worse
    below, above = pos[:nb], pos[nb:]
    if polarity == "higher_is_worse":
        assert all(p > 0.5 for p in below) and all(p < 0.5 for p in above)
    else:
        assert all(p < 0.5 for p in below) and all(p > 0.5 for p in above)
    # symmetric around the neutral centre: the classes next to the comparator are
    # equally far from it on opposite sides, and intensity grows away from it
    assert abs(abs(below[-1] - 0.5) - abs(above[0] - 0.5)) < 0.01
    dist_b = [abs(p - 0.5) for p in below][::-1]
    dist_a = [abs(p - 0.5) for p in above]
    assert dist_b == sorted(dist_b) and dist_a == sorted(dist_a)
    assert "#f7f7f7" not in cols   # no class gets the neutral colour itself


def test_diverging_needs_a_comparator():
    cls = C.classify([1, 2, 3, 4, 5], "quantiles", 3)
    with pytest.raises(C.ClassifyError):
        C.palette(cls, "diverging")


def test_sequential_polarity_puts_dark_at_the_worse_end(fingertips):
    y = _ok_values(fingertips, "life_expectancy_male")
    cls = C.classify(y, "quantiles", 4)
    worse_high = C.palette(cls, "sequential", "Blues", "higher_is_worse")
    better_high = C.palette(cls, "sequential", "Blues", "higher_is_better")
    assert better_high == worse_high[::-1]

    def lum(h):
        r, g, b = (int(h[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    # life expectancy: higher is better, so the lowest class is the darkest
    assert lum(better_high[0]) < lum(better_high[-1])
    assert len(set(worse_high)) == cls.k


def test_fixed_thresholds_value_on_threshold_goes_to_lower_class():
    cls = C.classify([1.0, 5.0, 5.0, 7.0, 10.0], "fixed", thresholds=[5, 8])
    assert cls.yb.tolist() == [0, 0, 0, 1, 2]
    assert cls.ranges()[0] == (1.0, 5.0)


def test_bad_options_raise_clear_errors():
    with pytest.raises(C.ClassifyError, match="unknown classification"):
        C.classify([1, 2, 3], "jenks??")
    with pytest.raises(C.ClassifyError, match="2-9"):
        C.classify([1, 2, 3], "quantiles", 12)
    with pytest.raises(C.ClassifyError, match="at least one threshold"):
        C.classify([1, 2, 3], "fixed", thresholds=[])
    with pytest.raises(C.ClassifyError, match="all missing"):
        C.classify([np.nan, np.nan], "quantiles")


def test_bivariate_core20_cells_on_real_lsoas(iod19, store):
    ind = "iod2019_income_score"
    v = iod19.values(ind)
    lsoa = store.lsoa.set_index("lsoa11cd")
    vals = v["value"].reindex(lsoa.index).to_numpy(float)
    t = C.tertiles(vals, "higher_is_worse")
    core = C.core20_level((lsoa["imd_decile"] <= 2).astype(float).to_numpy())
    cell = C.bivariate_class(t, core)
    n_core20 = int((lsoa["imd_decile"] <= 2).sum())
    assert (core == 2).sum() == n_core20 and (core == 0).sum() == len(lsoa) - n_core20
    assert ((cell // 3) == 2).sum() == n_core20
    # income deprivation and Core20 go together: most Core20 LSOAs sit in the worst tertile
    worst_in_core20 = ((cell == 8).sum()) / n_core20
    assert worst_in_core20 > 0.5
    assert C.bivariate_colour(8) == C.BIVARIATE[2][2] and C.bivariate_colour(-1) is None


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [3, 4, 7])
def test_all_methods_match_mapclassify_with_ties(seed, k):
    """Synthetic skewed values rounded to create ties (the hard case for breaks)."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.gamma(1.5, 8.0, 180 + 40 * seed), seed % 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = {"quantiles": mc.Quantiles(y, k=k), "equal_interval": mc.EqualInterval(y, k=k),
                "natural_breaks": mc.FisherJenks(y, k=k)}
    for method, ref in refs.items():
        ours = C.classify(y, method, k)
        np.testing.assert_allclose(ours.bins, ref.bins, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(ours.yb, ref.yb)
    t = sorted(rng.choice(y, 3, replace=False).tolist())
    ref = mc.UserDefined(y, t)
    ours = C.classify(y, "fixed", thresholds=t)
    np.testing.assert_array_equal(ours.bins, ref.bins)
    np.testing.assert_array_equal(ours.yb, ref.yb)
