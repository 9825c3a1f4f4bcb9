"""Browser tests for sharing: copy a view's link and reopen it in a fresh browser context,
presentation mode at 1280x720, tampered links, and every export opened for real
(XLSX/GeoPackage downloaded from the app, the standalone HTML map from disk with networking
off, the PNG snapshot and the ward profile PDF from the CLIs).

Screenshots of normal and presentation mode go to artifacts/ (git-ignored).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

from geo.store import load_store
from tests.e2e.harness import (MAP_IFRAME, ROOT, Server, choose, is_local, launch_browser, map_frame,
                               wait_applied, wait_idle)

ART = ROOT / "artifacts"
COPY_FRAME = 'iframe[title="Copy link to this view"]'
VIEWPORT = {"width": 1400, "height": 900}
PIXELS_JS = """(sel) => {
  const c = document.querySelector(sel);
  if (!c) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0, n = 0;
  for (let i = 0; i < d.length; i += 4 * 11) { n++; if (d[i + 3] > 0) painted++; }
  return painted / n;
}"""


@pytest.fixture(scope="module")
def store():
    return load_store()


@pytest.fixture(scope="module")
def app():
    ART.mkdir(exist_ok=True)
    with Server() as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        yield {"srv": srv, "browser": browser}
        browser.close()


def _wait_until(page, fn, what: str, timeout_s: float = 30):
    """Poll `fn` while letting Playwright process events (page.wait_for_timeout, not sleep)."""
    deadline = time.time() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        page.wait_for_timeout(100)


def _url(page) -> str:
    return page.evaluate("() => location.href")


def _view(page) -> dict:
    fr = map_frame(page)
    return fr.evaluate("""() => ({
        parts: Object.keys(LSC.parts).filter(k => LSC.parts[k] && LSC.parts[k].show !== false).sort(),
        cls: LSC.parts.deprivation ? LSC.parts.deprivation.cls : null,
        prio: LSC.parts.priority ? LSC.parts.priority.candidate : null,
        bounds: LSC.map.getBounds().toBBoxString(), zoom: LSC.map.getZoom(),
        wardsOn: LSC.map.hasLayer(LSC.layers.wards), fillOn: LSC.map.hasLayer(LSC.layers.fill)})""")


def _legend_titles(page) -> list[str]:
    return page.eval_on_selector_all(".lsc-legend-title", "els => els.map(e => e.textContent)")


def test_view_built_in_ui_copied_as_link_reopens_identically(app, store, tmp_path):
    srv, browser = app["srv"], app["browser"]
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=srv.url)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    page.goto(srv.url)
    wait_idle(page)
    v = wait_applied(page)
    # build a view through the UI: measure, a place, wards off, zoom in
    choose(page, "Measure", "Income")
    wait_idle(page)
    v = wait_applied(page, v)
    choose(page, "Area", "Place (legacy five): Fylde Coast")
    wait_idle(page)
    v = wait_applied(page, v)
    page.get_by_text("Wards (May 2024)", exact=True).click()
    wait_idle(page)
    v = wait_applied(page, v)
    fr = map_frame(page)
    z0 = fr.evaluate("() => LSC.map.getZoom()")
    fr.locator(".leaflet-control-zoom-in").click()
    _wait_until(page, lambda: map_frame(page).evaluate("() => LSC.map.getZoom()") > z0, "zoom in")
    _wait_until(page, lambda: "z=" in _url(page) and float(parse_qs(urlsplit(_url(page)).query)["z"][0]) > z0,
                "page URL carries the new zoom")
    before = _view(page)
    legend_before = _legend_titles(page)
    assert before["fillOn"] and not before["wardsOn"]
    assert "wards" not in before["parts"]
    # Copy link
    page.frame_locator(COPY_FRAME).get_by_role("button", name="Copy link to this view").click()
    page.frame_locator(COPY_FRAME).get_by_text("Link copied").wait_for(timeout=10_000)
    link = page.evaluate("() => navigator.clipboard.readText()")
    shown = page.frame_locator(COPY_FRAME).locator("input").input_value()
    assert link == shown and link.startswith(srv.url)
    q = parse_qs(urlsplit(link).query)
    assert q["measure"] == ["income"] and q["area"] == ["place5:Fylde Coast"]
    assert "wards" not in q["layers"][0].split(",") and "deprivation" in q["layers"][0].split(",")
    page.screenshot(path=str(ART / "share_normal.png"))

    # a new browser context (no cookies, no session) opens the link
    ctx2 = browser.new_context(viewport=VIEWPORT)
    p2 = ctx2.new_page()
    p2.goto(link)
    wait_idle(p2)
    wait_applied(p2)
    _wait_until(p2, lambda: _view(p2)["bounds"] == before["bounds"], "same bounds", 20)
    after = _view(p2)
    assert after == before
    assert _legend_titles(p2) == legend_before
    assert p2.get_by_text("Parts of this link could not be used").count() == 0
    # the widgets show the view too
    p2.screenshot(path=str(ART / "share_reopened.png"))
    side = p2.locator("section[data-testid='stSidebar']")
    assert side.get_by_label("Measure", exact=True).input_value() == "Income"
    assert not side.get_by_label("Wards (May 2024)").is_checked()
    ctx2.close()

    # exports of this view, downloaded from the app, open with openpyxl / geopandas
    page.get_by_text("Export this view", exact=True).click()
    page.get_by_role("button", name="Prepare table, GeoPackage and HTML map").click()
    wait_idle(page, timeout=120_000)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download XLSX").click()
    x = tmp_path / dl.value.suggested_filename
    dl.value.save_as(x)
    rows = list(load_workbook(x).active.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "wd24cd")
    assert sorted(r[0] for r in rows[top + 1:]) == sorted(
        store.wards24.loc[store.wards24["place5"] == "Fylde Coast", "wd24cd"])
    head = {r[0]: r[1] for r in rows[:top] if r[0]}
    assert "Income" in head["Deprivation"] and "Fylde Coast" in head["Filter: area"]
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download GeoPackage").click()
    g = tmp_path / "view.gpkg"
    dl.value.save_as(g)
    lsoa = gpd.read_file(g, layer="lsoa_deprivation")
    assert lsoa.crs.to_epsg() == 4326
    # the default vintage, IoD2025, on every 2021 LSOA polygon of the place
    assert len(lsoa) == int((store.lsoa25["place5"] == "Fylde Coast").sum())
    exp = store.lsoa25.set_index("lsoa21cd").loc[lsoa["lsoa_code"], "income_decile"].astype(int).to_numpy()
    assert (lsoa["decile"].astype(int).to_numpy() == exp).all()
    assert not [u for u in requests if not is_local(u)]
    ctx.close()


HOSTILE = ("?measure=%3Cscript%3Ealert(1)%3C/script%3E&z=-5&lat=1e999&lon=-2.7&ward=E05999999"
           "&title=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E&%3Cb%3Ex%3C/b%3E=1&n=99999999999999"
           "&area=place5:%3Csvg%20onload%3Dalert(3)%3E&layers=deprivation,%3Cscript%3E&brk=" + "9," * 400)


def test_tampered_link_never_breaks_the_page(app, store):
    srv, browser = app["srv"], app["browser"]
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(srv.url + "/" + HOSTILE)
    wait_idle(page)
    wait_applied(page)
    fr = map_frame(page)
    assert int(fr.evaluate("() => document.body.getAttribute('data-lsc-painted')")) == len(store.lsoa25)
    notice = page.locator("[data-testid='stAlert']", has_text="Parts of this link could not be used")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "Zoom" in text and "Ward" in text and "measure" in text
    assert "<script" not in text and "alert(" not in text
    assert dialogs == []
    for doc in (page, fr):
        html = doc.content()
        assert "<script>alert(1)" not in html and 'onerror="alert(2)"' not in html.lower()
        assert doc.locator("img[src='x']").count() == 0 and doc.locator("svg[onload]").count() == 0
    # the URL is rewritten to a valid view (defaults where the link was bad)
    _wait_until(page, lambda: "measure=imd" in _url(page), "URL normalised")
    q = parse_qs(urlsplit(_url(page)).query)
    assert q["measure"] == ["imd"] and "ward" not in q and "<" not in _url(page)
    assert q["layers"] == ["deprivation"]
    page.get_by_role("button", name="Dismiss").click()
    notice.wait_for(state="detached", timeout=30_000)
    assert notice.count() == 0
    ctx.close()


def test_presentation_mode_at_1280x720(app):
    srv, browser = app["srv"], app["browser"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.goto(srv.url + "/?present=1&area=district:E06000009&title=Blackpool%20workshop")
    wait_idle(page)
    wait_applied(page)
    fr = map_frame(page)
    _wait_until(page, lambda: fr.evaluate("() => document.body.getAttribute('data-lsc-present')") == "1", "present styles")
    sidebar = page.locator("section[data-testid='stSidebar']")
    assert sidebar.count() == 0 or not sidebar.is_visible()
    bar = page.locator("[data-testid='lsc-present-bar']")
    assert bar.is_visible()
    t = bar.inner_text()
    assert "Blackpool workshop" in t and "IoD2025" in t and re.search(r"\d{1,2} \w+ 20\d\d", t)
    sizes = page.eval_on_selector_all(".lsc-legend-item span, .lsc-legend-title",
                                      "els => els.filter(e => e.offsetParent).map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert len(sizes) >= 10 and min(sizes) >= 18
    box = page.locator(MAP_IFRAME).bounding_box()
    assert box["y"] + box["height"] <= 720 + 1 and box["height"] >= 500 and box["width"] >= 640
    assert fr.evaluate("() => LSC.map.getSize().y") >= 500
    # high-contrast outlines in the map
    w = fr.evaluate("() => LSC.layers.wards.strokes()[0].weight")
    assert w >= 1.5
    # ward names on the map are large too (the district view is zoomed in past the label zoom)
    _wait_until(page, lambda: fr.locator(".lsc-label span").count() > 0, "ward labels drawn")
    label_px = fr.eval_on_selector_all(".lsc-label span", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(label_px) >= 18
    page.screenshot(path=str(ART / "share_present.png"))
    # leaving presentation mode brings the sidebar back and drops present=1 from the URL
    page.get_by_role("button", name="Exit").click()
    wait_idle(page)
    page.locator("section[data-testid='stSidebar']").wait_for(state="visible", timeout=20_000)
    _wait_until(page, lambda: "present=" not in _url(page), "present dropped from URL")
    ctx.close()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ})


def test_snapshot_png_and_standalone_html(app, store, tmp_path):
    """One `python -m geo snapshot` run: the PNG at the requested size with content, and the
    standalone HTML it rendered, reopened from disk with networking off, paints the map."""
    from PIL import Image
    png, out = tmp_path / "view.png", tmp_path / "map.html"
    r = _cli("snapshot", "--url-state", "measure=crime&vintage=2019&area=district%3AE07000117&title=Burnley",
             "--width", "1600", "--height", "900", "--out", str(png), "--html-out", str(out))
    assert r.returncode == 0, r.stderr
    # --- the PNG
    im = Image.open(png).convert("RGB")
    assert im.size == (1600, 900)
    colours = im.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200                       # not blank
    assert max(colours)[0] / (1600 * 900) < 0.6                             # no single colour dominates
    import yaml
    pal = yaml.safe_load((ROOT / "config" / "layers.yaml").read_text())["deprivation"]["palette"]
    rgb = [tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in pal]
    px = im.resize((400, 225)).get_flattened_data()
    seen = {i for p in px for i, c in enumerate(rgb) if sum(abs(a - b) for a, b in zip(p, c)) < 30}
    assert len(seen) >= 5                                                   # the decile palette is drawn
    im.save(ART / "share_snapshot.png")
    # --- the HTML, from disk, offline
    html = out.read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)
    ctx = app["browser"].new_context(viewport={"width": 1400, "height": 900}, offline=True)
    requests: list[str] = []
    ctx.on("request", lambda q: requests.append(q.url))
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
              else route.abort())
    page = ctx.new_page()
    page.goto(out.as_uri())
    page.wait_for_function("() => document.body.hasAttribute('data-lsc-applied') || "
                           "document.body.hasAttribute('data-lsc-error')", timeout=60_000)
    assert page.evaluate("() => document.body.getAttribute('data-lsc-error')") is None
    assert int(page.evaluate("() => document.body.getAttribute('data-lsc-painted')")) == len(store.lsoa)
    assert page.evaluate("() => LSC.parts.deprivation.cls") == store.lsoa["crime_decile"].astype(int).tolist()
    assert page.evaluate(PIXELS_JS, ".leaflet-lsc-fill-pane canvas") > 0.05
    assert page.get_by_text("Crime: national decile").is_visible()
    assert page.locator("#lsc-title", has_text="Burnley").is_visible()
    assert page.locator("#lsc-north svg").is_visible() and page.locator(".leaflet-control-scale").is_visible()
    assert "Open Government Licence" in page.inner_text("#lsc-foot")
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests if not u.startswith("file:")]
    page.screenshot(path=str(ART / "share_html_offline.png"))
    ctx.close()


def test_ward_profile_pdf_is_one_page(store, tmp_path):
    # the worst case: the ward with the most LSOAs
    code = store.lsoa["wd24cd"].value_counts().index[0]
    out = tmp_path / "profile.pdf"
    r = _cli("export", "--format", "pdf", "--ward", code, "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
