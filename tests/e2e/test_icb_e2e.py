"""Browser test: another ICB's map (issue #12). `?icb=E54000059` paints Northamptonshire's
443 LSOA 2021 polygons offline (no request leaves localhost), with its approximate wards
and NHSE/I priority wards, and one of its ward profiles opens."""
from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from geo import footprint as F
from tests.e2e.harness import (ROOT, Server, choose, is_local, launch_browser, map_frame, open_recorded,
                               pixels_js, wait_applied, wait_idle)

ART = ROOT / "artifacts"
NORTHANTS = "E54000059"


@pytest.fixture(scope="module")
def session():
    ART.mkdir(exist_ok=True)
    with Server(timeout=180) as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        page, requests = open_recorded(browser, f"{srv.url}/?icb={NORTHANTS}", {"width": 1500, "height": 1000})
        v = wait_applied(page, timeout=180_000)
        yield {"page": page, "requests": requests, "v": v}
        browser.close()


def test_northamptonshire_paints_offline(session, store):
    page = session["page"]
    v = F.footprint(store, NORTHANTS)
    fr = map_frame(page)
    assert int(fr.evaluate("() => document.body.getAttribute('data-lsc-painted')")) == len(v.lsoa25) == 443
    assert fr.evaluate("() => LSC.lsoaObject()") == "lsoa21"
    assert fr.evaluate("() => LSC.parts.deprivation.cls") == v.lsoa25["imd_decile"].astype(int).tolist()
    px = fr.evaluate(pixels_js("leaflet-lsc-fill-pane"))
    assert px is not None and px["painted"] / px["sampled"] > 0.05 and px["colours"] >= 8
    # the view is Northamptonshire's, not Lancashire's
    c = fr.evaluate("() => { const c = window.map.getCenter(); return [c.lat, c.lng]; }")
    w, s, e, n = v.districts.total_bounds
    assert s <= c[0] <= n and w <= c[1] <= e
    # its NHSE/I priority wards are drawn on their 2019 shapes
    assert fr.evaluate("() => LSC.layers.subsets.prio_icb.layer.getLayers().length") == 15
    assert page.get_by_role("combobox", name="ICB", exact=True).input_value() == "NHS Northamptonshire ICB"
    body = page.inner_text("body")
    assert "APPROXIMATE" in body and "NHS England/Improvement" in body
    page.screenshot(path=str(ART / "icb_northamptonshire.png"))
    external = sorted({u for u in session["requests"] if not is_local(u)})
    assert external == []


def test_northamptonshire_ward_profile(session, store):
    page = session["page"]
    v = F.footprint(store, NORTHANTS)
    w = v.wards24.sort_values("wd24nm").iloc[0]
    v0 = map_frame(page).evaluate("() => LSC.applied")
    choose(page, "Find a ward", f"{w['wd24nm']} ({w['lad19nm']})", typed=w["wd24nm"])
    wait_idle(page)
    wait_applied(page, v0)
    page.get_by_role("heading", name=w["wd24nm"], exact=True).wait_for(timeout=30_000)
    n = int((v.lsoa25["wd24cd"] == w["wd24cd"]).sum())
    page.get_by_text(f"Its {n} LSOAs by IMD national decile").wait_for(timeout=30_000)
    page.screenshot(path=str(ART / "icb_northamptonshire_ward_profile.png"))
    external = sorted({u for u in session["requests"] if not is_local(u)})
    assert external == []
