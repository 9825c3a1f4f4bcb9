"""The first ward profile of a process (issue #16): after a full page, a worker thread
builds what every profile reads but no page run builds, so the first ward someone opens
costs what the next ones do. Real store; the register as the app loads it."""
from __future__ import annotations

import datetime as dt

import pytest

import geo.viewstate  # noqa: F401  (first: the layers register their view fields in it)
import layers.indicators  # noqa: F401  (the providers the profile needs)
import layers.services  # noqa: F401
from layers import profile as panels
from layers.base import MapContext
from tests import profile as P


@pytest.mark.real_data
@pytest.mark.parametrize("vintage", [2019, 2025])
def test_prewarm_builds_a_first_profiles_tables_and_the_profile_is_unchanged(store, vintage):
    from geo import footprint as F
    from geo.saved_services import load_register
    store = F.footprint(store, F.LSC_CODE)          # the app's view of the store (ctx.store)
    reg, fp, day = load_register(), f"prewarm-test-{vintage}", dt.date.today().isoformat()
    key = "prewarm-test"
    for by in ("ward", "place", "icb", "england"):
        assert not panels._figures.has(store, fp, by, vintage)
    assert panels.prewarm(store, fp, vintage, reg, key, day) == []
    for by in ("ward", "place", "icb", "england"):
        assert panels._figures.has(store, fp, by, vintage), by
    assert panels._positions.has(store, fp, vintage)
    assert panels._open_sites.has(reg, key, day)
    # a profile built from the warmed caches: the ward's own figures, its LSOAs, England
    code = store.wards24["wd24cd"].iloc[7]
    row, mine = panels._ward_rows(store, fp, code, vintage)
    lsoa = store.lsoa if vintage == 2019 else store.lsoa25
    assert sorted(mine.index) == sorted(lsoa.index[lsoa["wd24cd"] == code])
    ctx = MapContext(store=store, fingerprint=fp, config={})
    body = panels.profile_html(ctx, code, {}, vintage, row.iloc[0], mine)
    comp = P.tables(body)[0]
    assert list(comp["Area"]) == [f"Ward: {row.iloc[0]['wd24nm']}", f"Place: {row.iloc[0]['place5']}",
                                  "ICB: NHS Lancashire and South Cumbria ICB", "England"]
    from layers.data import ward_table
    wt = ward_table(store, fp, vintage).set_index("code")
    assert comp.iloc[0]["IMD score"] == f"{wt.loc[code, 'imd_score']:.1f}"
    assert f"Its {len(mine)} LSOAs by IMD national decile" in P.text(body)


def test_a_failing_step_is_reported_not_raised(store):
    class Broken:
        category = None            # ward_services reads .records and .config: an AttributeError
    failed = panels.prewarm(store, "prewarm-broken", 2025, Broken(), "k", "2026-01-01")
    assert failed == ["services"]


def test_prewarm_only_when_asked_and_never_for_a_large_footprint(monkeypatch, store):
    started = []
    monkeypatch.setattr(panels, "prewarm", lambda *a, **k: started.append(a))
    monkeypatch.setattr(panels, "_PREWARMED", set())
    ctx = MapContext(store=store, fingerprint="prewarm-flag", config={})
    monkeypatch.setattr(ctx, "choice", lambda *a: 2025, raising=False)
    for flag in ("", "0"):                       # off by default (it can slow another session's first map)
        monkeypatch.setenv("LSC_PREWARM", flag)
        panels.prewarm_profile(ctx)
    assert not started
    monkeypatch.setenv("LSC_PREWARM", "1")
    monkeypatch.setattr(panels, "PREWARM_MAX_LSOAS", len(store.lsoa25) - 1)
    panels.prewarm_profile(ctx)                  # a footprint above the limit (England): none
    assert not started
    monkeypatch.setattr(panels, "PREWARM_MAX_LSOAS", len(store.lsoa25))
    panels.prewarm_profile(ctx)
    panels._prewarm_pool.shutdown(wait=True)
    panels._prewarm_pool = None
    assert len(started) == 1


def test_each_step_waits_for_a_quiet_server_and_a_busy_one_leaves_the_rest(store, monkeypatch):
    """A warm-up step never starts while a page is loading: quiet() is asked before each;
    when the server stays busy the remaining steps are left to the profile itself."""
    answers = iter([True, True, False])
    asked = []

    def quiet():
        asked.append(1)
        return next(answers)
    failed = panels.prewarm(store, "prewarm-busy", 2025, None, "", "", quiet)
    assert len(asked) == 3
    assert panels._figures.has(store, "prewarm-busy", "place", 2025)            # steps 1 and 2 ran
    assert not panels._figures.has(store, "prewarm-busy", "icb", 2025)          # then the server was busy
    assert failed == ["figures:icb", "figures:england", "positions", "indicators"]


def test_wait_for_quiet_follows_the_last_script_run(monkeypatch):
    import time

    from layers import cache
    monkeypatch.setattr(cache, "LAST_RUN", [time.monotonic()])
    monkeypatch.setattr("layers.cache.LAST_RUN", cache.LAST_RUN)
    assert panels.wait_for_quiet(idle_s=0.3, give_up_s=0.1) is False     # a run just started: busy
    t0 = time.monotonic()
    assert panels.wait_for_quiet(idle_s=0.3, give_up_s=5) is True        # quiet 0.3 s after it
    assert 0.1 < time.monotonic() - t0 < 2
    cache.new_run()                                                     # every run marks the clock
    assert time.monotonic() - cache.LAST_RUN[0] < 0.5
