"""The indicator layer's instant-restyle file (layers/indicators.py) and the per-rerun
memo it primes (layers/base.hot), on the real staged indicators."""
from __future__ import annotations

import json

import mapclassify as mc
import numpy as np
import pytest

from geo import classify as C
from geo import indicators as I
from layers import indicators_data as D
from layers import indicators_instant as J
from layers.base import hot, new_run, per_run


@pytest.fixture(scope="module")
def iod(store):
    return I.load_builtin("iod2019", store).prepare()


@pytest.fixture(scope="module")
def fingertips(store):
    return I.load_builtin("fingertips_lad", store).prepare()


def _per(data):
    return data.periods(data.indicators()[0])[-1]


def test_choices_cover_every_indicator_and_method(iod):
    ch = J.instant_choices(iod, _per(iod), "quantiles", (), None, "sequential", "choropleth")
    keys = [c[0] for c in ch]
    assert len(iod.indicators()) == 8
    assert keys == [f"{i}|{m}" for i in iod.indicators() for m in C.METHODS if m != "fixed"]
    # from fixed thresholds only the other indicators with the same thresholds
    assert all(c[2] == _per(iod) for c in ch)
    ch = J.instant_choices(iod, _per(iod), "fixed", (10.0, 20.0), None, "sequential", "choropleth")
    assert [c[0] for c in ch] == [f"{i}|fixed" for i in iod.indicators()]
    # bivariate: the Indicator control alone
    ch = J.instant_choices(iod, _per(iod), "quantiles", (), None, "sequential", "bivariate")
    assert [c[0] for c in ch] == iod.indicators()


def test_choices_follow_streamlit_fallbacks_for_period_and_comparator(fingertips):
    """A keyed selectbox keeps its value while it is still an option, else falls back to
    its default: the latest period, the first available comparator."""
    ch = {c[0]: c for c in J.instant_choices(fingertips, "2023", "quantiles", (), "ICB", "diverging",
                                             "choropleth")}
    _, _, per, comp, _ = ch["respiratory_mortality_u75|quantiles"]
    assert per == "2023"                                       # still an option: kept
    _, _, per, comp2, _ = ch["life_expectancy_male|quantiles"]
    assert per == "2024"                                       # not an option: latest
    assert comp == comp2 == "England"                          # no ICB value: first available
    ch = {c[0]: c for c in J.instant_choices(fingertips, "2024", "quantiles", (), "Region", "diverging",
                                             "choropleth")}
    assert ch["smoking_prevalence|quantiles"][3] == "Region"   # available: kept


def test_file_holds_the_classes_the_rerun_would_send(store, iod):
    codes = store.lsoa["lsoa11cd"].tolist()
    per = _per(iod)
    raw = J.build_instant(iod, codes, None, per, "any", 5, (), "sequential", None, None, "choropleth")
    data = json.loads(raw)
    assert len(data) == 8 * 3
    for key, entry in data.items():
        ind, m = key.split("|")
        r = D.classify_areas(iod, codes, None, ind, per, m, 5, (), "sequential", None, None, "choropleth")
        assert entry == {"cls": r["cls"], "colors": r["colors"]}, key
    # ... which are mapclassify's classes of the real values
    ind = iod.indicators()[0]
    y = iod.values(ind, per)["value"].reindex(codes).to_numpy(float)
    assert np.isfinite(y).all()
    assert data[f"{ind}|natural_breaks"]["cls"] == mc.FisherJenks(y, k=5).yb.tolist()
    assert data[f"{ind}|quantiles"]["cls"] == mc.Quantiles(y, k=5).yb.tolist()
    assert len(data[f"{ind}|quantiles"]["colors"]) == 5
    # only the quick methods when asked (the first, early file)
    quick = json.loads(J.build_instant(iod, codes, None, per, "any", 5, (), "sequential", None, None,
                                       "choropleth", methods=("quantiles", "equal_interval")))
    assert {k.split("|")[1] for k in quick} == {"quantiles", "equal_interval"}


def test_choices_that_cannot_be_classed_are_left_out(store, fingertips):
    """Diverging around a comparator an indicator lacks cannot be centred: no entry (the
    rerun shows why), rather than wrong colours."""
    codes = store.districts["lad19cd"].tolist()
    ch = J.instant_choices(fingertips, "2024", "quantiles", (), "ICB", "diverging", "choropleth")
    assert all(c[3] in ("England", "Region") for c in ch)
    raw = json.loads(J.build_instant(fingertips, codes, None, "2024", "any", 5, (), "sequential", None, None,
                                     "choropleth", methods=("quantiles",)))
    assert len(raw) == len(fingertips.indicators())
    # fixed thresholds outside every value: one class, still a valid file entry per indicator
    raw = json.loads(J.build_instant(fingertips, codes, None, "2024", "fixed", 5, (1e9,), "sequential", None,
                                     None, "choropleth"))
    assert set(raw) == {f"{i}|fixed" for i in fingertips.indicators()}


def test_job_primes_the_rerun_caches(store, iod, monkeypatch):
    """After the worker built the file, the reruns that switch to any of its choices find
    their classes and decile chart ready (the same objects the job computed)."""
    fp = "test-fp"
    codes = store.lsoa["lsoa11cd"].tolist()
    af = D._area_frame(store, fp, iod.target)
    per = _per(iod)
    job = J._InstantJob(iod, "iod2019:test", store, fp, codes, None, af, None,
                        (per, "any", 4, (), "sequential", None, None, "choropleth"))
    job.run()
    assert job.error is None and job.url and job.url.startswith("/app/static/gen/indinst.")

    def no_compute(*a, **k):
        raise AssertionError("computed again: the job did not prime this")
    monkeypatch.setattr(D, "classify_areas", no_compute)
    monkeypatch.setattr(I, "by_imd_decile", no_compute)
    ind = iod.indicators()[2]
    r = D._classified(iod, "iod2019:test", store, fp, ind, per, "equal_interval", 4, (), "sequential", None,
                      None, "choropleth")
    assert r is D._classified(iod, "iod2019:test", store, fp, ind, per, "equal_interval", 4, (),
                              "sequential", None, None, "choropleth")
    y = iod.values(ind, per)["value"].reindex(codes).to_numpy(float)
    assert r["cls"] == mc.EqualInterval(y, k=4).yb.tolist()
    t = D._decile_table(iod, "iod2019:test", store, fp, ind, per, iod.target)
    monkeypatch.undo()
    assert t.equals(I.by_imd_decile(iod, ind, per, store, af=af))


def test_hot_memo_keys_like_streamlit_and_is_primeable():
    calls = []

    @hot(maxsize=2)
    def f(_big, fp, x):
        calls.append(x)
        return [x]
    a = f(object(), "fp", 1)
    assert f(object(), "fp", 1) is a and calls == [1]        # "_" argument not in the key
    f(None, "fp", 2)
    f(None, "fp", 3)                                          # evicts the oldest
    assert f(None, "fp", 1) is not a and calls == [1, 2, 3, 1]
    f.prime(None, "fp", 9, value=["primed"])
    assert f(None, "fp", 9) == ["primed"] and 9 not in calls
    assert f(None, "fp", [1]) == [[1]]                       # unhashable: computed each time
    assert f(None, "fp", [1]) == [[1]] and calls.count([1]) == 2


def test_per_run_memo_resets_each_run():
    n = []

    @per_run
    def g(x):
        n.append(x)
        return len(n)
    new_run()
    assert g("a") == g("a") == 1
    new_run()
    assert g("a") == 2


def test_hot_prime_respects_maxsize_and_clear_reaches_streamlit_cache():
    cleared = []

    def inner(fp, x):
        return [x]
    inner.clear = lambda: cleared.append(1)
    f = hot(inner, maxsize=3)
    for i in range(50):
        f.prime("fp", i, value=[i])
    assert sum(f.has("fp", i) for i in range(50)) == 3            # primes evict like misses
    assert f.has("fp", 49) and not f.has("fp", 0)
    f.clear()
    assert cleared == [1] and not f.has("fp", 49)


def test_per_run_memo_sees_a_change_after_new_run(tmp_path, monkeypatch):
    """The services register's file fingerprint is memoised per run; saving a file calls
    new_run() so the rest of that run sees the new file (layers/services.py)."""
    from geo import services as sv
    from layers import services as S
    extra = tmp_path / "user_services.csv"
    monkeypatch.setattr(sv, "user_files", lambda: [extra])
    new_run()
    a = S._fingerprint()
    extra.write_text("id\n1\n")
    assert S._fingerprint() == a          # same run: memoised
    new_run()
    assert S._fingerprint() != a


def test_instant_jobs_release_data_and_rebuild_a_pruned_file(store, iod, monkeypatch):
    """A finished job keeps only its URL; when its file is gone (pruned after a week
    unused) the next rerun builds it again instead of pointing the browser at a 404."""
    from layers.base import MapContext
    from render.static_files import STATIC_DIR
    ctx = MapContext(store=store, fingerprint="test-fp2", interactive=True)
    settings = (_per(iod), "any", 3, (), "sequential", None, None, "choropleth")
    assert J.instant_url(ctx, iod, "iod2019:jobtest", settings) is None      # started, not ready
    job = J._INSTANT_JOBS[(ctx.fingerprint, "iod2019:jobtest", id(iod), settings)]
    job.future.result(timeout=120)
    url = J.instant_url(ctx, iod, "iod2019:jobtest", settings)
    assert url == job.url and job.data is None and job.store is None and job.error is None
    path = STATIC_DIR / url[len("/app/static/"):]
    path.unlink()
    assert J.instant_url(ctx, iod, "iod2019:jobtest", settings) is None      # rebuilding
    job2 = J._INSTANT_JOBS[(ctx.fingerprint, "iod2019:jobtest", id(iod), settings)]
    assert job2 is not job
    job2.future.result(timeout=120)
    assert J.instant_url(ctx, iod, "iod2019:jobtest", settings) == url and path.exists()
