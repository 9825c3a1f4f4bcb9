"""The load test's client (bench/wsclient.py) against the real app: two websocket sessions
at once make the everyday clicks; each completes with no error, and each rerun changes
what the server sends (the area, the legend, the ward profile)."""
from __future__ import annotations

import asyncio
import html
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import (MAP_COMPONENT, NO_PROFILE, ClickFailed, memory_verdict, one_click,  # noqa: E402
                        open_page)
from tests.e2e.harness import FIRST_PAINT_MARK, Server  # noqa: E402
from wsclient import RunTimeout, StreamlitSession  # noqa: E402


@pytest.fixture(scope="module")
def server(store):
    with Server("app.py") as srv:
        yield srv


def _legend(run) -> str:
    found = [t for t in run.texts("markdown") if "lsc-legend-entry" in t]
    assert found, "no legend in the run's deltas"
    return found[-1]


async def _person(url: str, area: str, measure: str, ward: tuple[str, str]) -> dict:
    async with StreamlitSession(url, timeout=60) as s:
        first = await s.load()
        assert first.status == "FINISHED_SUCCESSFULLY" and not first.exceptions
        assert first.has_text(FIRST_PAINT_MARK), "the server runs the map-first page (LSC_PROGRESSIVE=1)"
        full = await s.set_component(MAP_COMPONENT, {"last_clicked": None, "lsc_painted": "1"})
        assert not full.has_text(FIRST_PAINT_MARK) and s.widget("Area").options
        legend0 = _legend(full)

        r_area = await s.select("Area", area)
        r_off = await s.check("Wards (May 2024)", False)
        r_on = await s.check("Wards (May 2024)", True)
        r_measure = await s.select("Measure", measure)
        r_open = await s.select("Find a ward", ward[1])
        r_close = await s.press("Close ward profile")
        runs = [r_area, r_off, r_on, r_measure, r_open, r_close]
        return {"runs": runs, "legend0": legend0, "full": full, "query": s.query_string}


async def _bench_person(url: str, wards: list) -> list[float]:
    """bench_load's own click loop: six clicks, no error; a click on a control that is not
    on the page is reported."""
    s = StreamlitSession(url, timeout=60)
    try:
        assert await open_page(s) > 0
        cur, rnd = {"area": "Whole ICB (Lancashire and South Cumbria)",
                    "measure": "Index of Multiple Deprivation"}, random.Random(1)
        times = [await one_click(s, k, cur, rnd, wards)
                 for k in ("area", "wards_off", "wards_on", "measure", "ward_open", "ward_close")]
        with pytest.raises(LookupError):       # the profile is closed: no close button
            await one_click(s, "ward_close", cur, rnd, wards)
        return times
    finally:
        await s.close()


def test_two_sessions_click_without_errors_and_each_rerun_changes_the_page(server, store):
    w = store.wards24
    all_wards = [(n, f"{n} ({d})") for n, d in zip(w["wd24nm"], w["lad19nm"])]
    name = "Bank Hall"
    ward = (name, f"{name} ({w.set_index('wd24nm').loc[name, 'lad19nm']})")

    async def both():
        return await asyncio.gather(_person(server.url, "District: Burnley", "Income", ward),
                                    _bench_person(server.url, all_wards))
    res, times = asyncio.run(both())
    assert len(times) == 6 and all(0 < t < 60 for t in times)
    r_area, r_off, r_on, r_measure, r_open, r_close = res["runs"]
    for r in res["runs"]:       # area, wards and the profile rerun only their parts (layers/parts.py)
        assert r.status in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"), r.status
        assert r.exceptions == [] and r.alerts == [], (r.exceptions, r.alerts)
        assert 0 < r.seconds < 60 and r.messages > 0
    # the area change: text naming the new area that the whole-ICB page did not send
    before = set(res["full"].texts())
    assert any("Burnley" in t for t in set(r_area.texts()) - before), "nothing new names Burnley"
    # the wards layer off and on: its legend entry goes and comes back
    assert "Electoral wards" in _legend(r_on) and "Electoral wards" not in _legend(r_off)
    # the measure: the legend now names it
    assert "Income" in _legend(r_measure) and _legend(r_measure) != res["legend0"]
    # the ward search opens that ward's profile; the close button closes it
    assert r_open.has_text(f"<h3>{html.escape(name)}</h3>") and not r_open.has_text(NO_PROFILE)
    assert r_close.has_text(NO_PROFILE) and not r_close.has_text(f"<h3>{html.escape(name)}</h3>")
    # the query string the server wrote follows the session's view
    assert "E07000117" in res["query"] and "measure=income" in res["query"]


def test_a_click_slower_than_the_timeout_is_reported(server):
    async def go():
        async with StreamlitSession(server.url, timeout=0.001) as s:
            await s.load()      # a run (Python, the map's payload) takes far longer than 1 ms
    with pytest.raises(RunTimeout):
        asyncio.run(go())


def test_memory_verdict_tells_flat_from_growing():
    flat = [(t, 400 + (t % 10) * 0.2, 1.0) for t in range(0, 300, 5)]
    grow = [(t, 400 + t * 0.5, 1.0) for t in range(0, 300, 5)]
    f, g = memory_verdict(flat, 60), memory_verdict(grow, 60)
    assert f["verdict"] == "flat" and abs(f["growth_mb"]) < 2
    assert g["verdict"] == "GROWING" and g["growth_mb"] == pytest.approx((265 - 90) * 0.5, abs=3)   # medians of [60, 120] and [235, 295] s
    assert g["slope_mb_per_min"] == pytest.approx(30, abs=1)
    assert ClickFailed(["a", "b"]).errors == ["a", "b"]
