"""Browser tests: streamlit run serve.py (app.py) + Playwright driving Debian's Chromium.

What a person sees: the LSOA layer paints (pixels + feature count), switching measure,
vintage and place repaints with the store's values, clicking a ward opens its profile,
and no request ever leaves localhost. Screenshots go to artifacts/ (git-ignored).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from geo.store import MEASURE_LABELS
from tests.e2e.harness import (open_recorded, pixels_js, MAP_IFRAME, ROOT, Server, choose, is_local, launch_browser, map_frame,
                               wait_applied, wait_idle)

ART = ROOT / "artifacts"

PIXELS_JS = pixels_js("leaflet-lsc-fill-pane")


@pytest.fixture(scope="module")
def session():
    """One server + browser for the module; every request the page makes is recorded."""
    ART.mkdir(exist_ok=True)
    with Server() as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        page, requests = open_recorded(browser, srv.url, {"width": 1500, "height": 1000})
        v = wait_applied(page)
        yield {"page": page, "srv": srv, "requests": requests, "v": v}
        browser.close()


def _frame(page):
    return map_frame(page)


def test_app_loads_and_paints_every_lsoa(session, store):
    page = session["page"]
    fr = _frame(page)
    painted = int(fr.evaluate("() => document.body.getAttribute('data-lsc-painted')"))
    # the default view: IoD2025 on the 1,051 LSOA 2021 polygons of the 16 LSC districts
    assert painted == len(store.lsoa25) == 1051
    assert fr.evaluate("() => LSC.lsoaObject()") == "lsoa21"
    px = fr.evaluate(PIXELS_JS)
    assert px is not None, "no canvas in the LSOA pane"
    # the LSOA fill covers a real part of the map and shows many decile colours
    assert px["painted"] / px["sampled"] > 0.05   # canvas has 30% padding each side
    assert px["colours"] >= 8
    # the browser holds exactly the store's national IMD deciles, in store order
    cls = fr.evaluate("() => LSC.parts.deprivation.cls")
    assert cls == store.lsoa25["imd_decile"].astype(int).tolist()
    core = fr.evaluate("() => LSC.parts.deprivation.core20")
    assert len(core) == int((store.lsoa25["imd_decile"] <= 2).sum())
    # legend + attribution are on screen, drawn by Streamlit
    assert page.get_by_text("Index of Multiple Deprivation: national decile").is_visible()
    assert page.get_by_text("Core20 LSOA (IMD national decile 1-2)").is_visible()
    body = page.inner_text("body")
    assert "Open Government Licence" in body and "Royal Mail" in body and "OS data" in body
    page.screenshot(path=str(ART / "map_initial.png"), full_page=False)


def test_switch_measure_vintage_and_local_deciles(session, store):
    page = session["page"]
    v0 = _frame(page).evaluate("() => LSC.applied")
    choose(page, "Measure", MEASURE_LABELS["income"])
    wait_idle(page)
    v1 = wait_applied(page, v0)
    fr = _frame(page)
    assert fr.evaluate("() => LSC.parts.deprivation.cls") == store.lsoa25["income_decile"].astype(int).tolist()
    assert page.get_by_text("Income: national decile").is_visible()

    # the vintage switch changes the values AND the polygons (2011 LSOAs for IoD2019), whose
    # file of their own is fetched the first time they are drawn, not before
    assert [u for u in session["requests"] if "/app/static/gen/geo11." in u] == []
    page.get_by_text("IoD2019 (2011 LSOAs)", exact=True).click()
    wait_idle(page)
    v2 = wait_applied(page, v1)
    fr = _frame(page)
    expected = store.lsoa["income_decile"].astype(int).tolist()
    assert fr.evaluate("() => LSC.parts.deprivation.cls") == expected
    assert fr.evaluate("() => LSC.lsoaObject()") == "lsoa"
    assert fr.evaluate("() => LSC.layers.fill.count()") == len(store.lsoa) == 1049
    assert int(fr.evaluate("() => LSC.painted")) == len(store.lsoa)

    page.get_by_text("Local (within the footprint) - extra view", exact=True).click()
    wait_idle(page)
    wait_applied(page, v2)
    assert _frame(page).evaluate("() => LSC.parts.deprivation.cls") == \
        store.lsoa["income_local_decile"].astype(int).tolist()
    # the map iframe was never remounted: geometry fetched once
    geo_fetches = [u for u in session["requests"] if "/app/static/gen/geo." in u]
    assert len(geo_fetches) == 1
    assert len([u for u in session["requests"] if "/app/static/gen/geo11." in u]) == 1
    page.screenshot(path=str(ART / "map_iod2019_income_local.png"))
    # back to the defaults for the next tests
    page.get_by_text("National (England)", exact=True).click()
    wait_idle(page)
    page.get_by_text("IoD2025 (2021 LSOAs)", exact=True).click()
    wait_idle(page)
    choose(page, "Measure", MEASURE_LABELS["imd"])
    wait_idle(page)


FILL_JS = "() => LSC.layers.fill.colors()"     # each LSOA's fill colour (null: no data, hatched)


def test_instant_restyle_matches_the_rerun(session, store):
    """A deprivation control restyles the LSOAs before the rerun, from the all-classes
    file; the rerun then confirms exactly the same colours."""
    page = session["page"]
    fr = _frame(page)
    pal = fr.evaluate("() => LSC.parts.deprivation.palette")
    n0 = fr.evaluate("() => LSC.instantCount || 0")
    v0 = fr.evaluate("() => LSC.applied")
    choose(page, "Measure", MEASURE_LABELS["crime"])
    fr.wait_for_function("() => document.body.getAttribute('data-lsc-styled') === '2025|crime|0'",
                         timeout=10_000, polling=5)
    instant = fr.evaluate(FILL_JS)
    assert fr.evaluate("() => LSC.instantCount") == n0 + 1        # the instant path painted it
    expected = [pal[c - 1] if c > 0 else None for c in store.lsoa25["crime_decile"].astype(int)]
    assert instant == expected
    wait_idle(page)
    wait_applied(page, v0)
    assert _frame(page).evaluate("() => LSC.parts.deprivation.cls") == store.lsoa25["crime_decile"].astype(int).tolist()
    assert _frame(page).evaluate(FILL_JS) == instant
    # a radio (vintage) goes the same way: the 2011 polygons at once, Core20 outlines follow
    v1 = _frame(page).evaluate("() => LSC.applied")
    page.get_by_text("IoD2019 (2011 LSOAs)", exact=True).click()
    _frame(page).wait_for_function("() => document.body.getAttribute('data-lsc-styled') === '2019|crime|0'",
                                   timeout=10_000, polling=5)
    assert _frame(page).evaluate("() => LSC.instantCount") == n0 + 2
    assert _frame(page).evaluate("() => LSC.lsoaObject()") == "lsoa"
    assert _frame(page).evaluate(FILL_JS) == [pal[c - 1] if c > 0 else None
                                              for c in store.lsoa["crime_decile"].astype(int)]
    wait_idle(page)
    wait_applied(page, v1)
    fr = _frame(page)
    assert fr.evaluate("() => LSC.parts.deprivation.core20") == fr.evaluate("() => LSC._instantData[LSC.parts.deprivation.instant.url].core20['2019']")
    page.get_by_text("IoD2025 (2021 LSOAs)", exact=True).click()
    wait_idle(page)
    choose(page, "Measure", MEASURE_LABELS["imd"])
    wait_idle(page)


def test_place_filter_zooms_and_filters_table(session, store):
    page = session["page"]
    fr = _frame(page)
    before = fr.evaluate("() => { const b = window.map.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }")
    v0 = fr.evaluate("() => LSC.applied")
    choose(page, "Area", "Place (legacy five): Fylde Coast")
    wait_idle(page)
    wait_applied(page, v0)
    fr = _frame(page)
    after = fr.evaluate("() => { const b = window.map.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }")
    w, s, e, n = store.place5[store.place5["code"] == "Fylde Coast"].total_bounds
    # the place is in view, and the view is much smaller than the whole ICB's
    assert after[0] <= s + 0.01 and after[1] <= w + 0.01 and after[2] >= n - 0.01 and after[3] >= e - 0.01
    assert (after[2] - after[0]) < 0.8 * (before[2] - before[0])
    n_wards = int((store.wards24["place5"] == "Fylde Coast").sum())
    assert page.get_by_text(f"Wards in Fylde Coast ({n_wards})").is_visible()
    page.screenshot(path=str(ART / "map_fylde_coast.png"))


def test_click_ward_opens_profile(session, store):
    page = session["page"]
    w = store.wards24
    areas = w.to_crs(27700).area
    target = w.loc[areas[w["place5"] == "Fylde Coast"].idxmax()]
    pt = target.geometry.representative_point()
    fr = _frame(page)
    x, y = fr.evaluate("""([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);
        const r = document.getElementById('map_div').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }""",
                       [pt.y, pt.x])
    box = page.locator(MAP_IFRAME).bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_timeout(150)
    # hover shows the ward's figures (escaped text, from the static ward file)
    tip = _frame(page).locator(".lsc-tip")
    tip.wait_for(state="visible", timeout=10_000)
    assert target["wd24nm"] in tip.inner_text() and "Core20" in tip.inner_text()
    page.mouse.click(box["x"] + x, box["y"] + y)
    wait_idle(page)
    heading = page.get_by_role("heading", name=target["wd24nm"], exact=True)
    heading.wait_for(timeout=20_000)
    page.screenshot(path=str(ART / "map_ward_profile.png"))
    page.get_by_text("Against place, ICB and England").wait_for(timeout=20_000)
    assert page.get_by_text(f"Its {int((store.lsoa25['wd24cd'] == target['wd24cd']).sum())} LSOAs by IMD national decile").is_visible()
    sel = _frame(page).evaluate("() => LSC._pending.view.sel")
    assert store.wards24["wd24cd"].iloc[sel] == target["wd24cd"]
    page.screenshot(path=str(ART / "map_ward_profile.png"))


def test_ward_search_zooms_to_ward(session, store):
    page = session["page"]
    w = store.wards24
    target = w[w["lad19nm"] == "Burnley"].iloc[0]
    v0 = _frame(page).evaluate("() => LSC.applied")
    choose(page, "Find a ward", f"{target['wd24nm']} ({target['lad19nm']})", typed=target["wd24nm"])
    wait_idle(page)
    wait_applied(page, v0)
    c = _frame(page).evaluate("() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }")
    assert target.geometry.buffer(0.02).contains(__import__("shapely").Point(c[1], c[0]))
    assert c[2] >= 11
    page.get_by_role("heading", name=target["wd24nm"], exact=True).wait_for(timeout=20_000)
    # zoomed in: ward names are drawn (and only those in view)
    fr = _frame(page)
    fr.locator(".lsc-label").first.wait_for(timeout=10_000)
    names = fr.evaluate("() => Array.from(document.querySelectorAll('.lsc-label span')).map(e => e.textContent)")
    assert target["wd24nm"] in names and len(names) < len(w)
    page.screenshot(path=str(ART / "map_ward_search_labels.png"))


def test_no_request_leaves_localhost(session):
    urls = session["requests"]
    # the runtime, Leaflet & plugins ship as one local file built from the npm-installed copies
    assert any(re.search(r"/app/static/gen/lscmap\.[0-9a-f]{16}\.js\?geo=", u) for u in urls), \
        "leaflet not served locally"
    assert any("/app/static/vendor/leaflet/leaflet.css" in u for u in urls)
    assert len(urls) > 10
    external = sorted({u for u in urls if not is_local(u)})
    assert external == []
