"""The standalone HTML export and the PNG snapshot in Chromium (issue #15, items 8, 11, 12):
the file opens from file:// with zero failed requests, no console errors and no request
leaving the file; the hover over a ward shows the indicator's value (and no "click for
profile", which does nothing there); no data is drawn hatched, never white; the PNG's
page fits the whole legend (services included) and the whole attribution, with no zoom
buttons. Screenshots go to artifacts/."""
from __future__ import annotations

import pytest

from geo import indicators as I
from geo import viewstate as VS
from tests.e2e.harness import launch_browser

IND = "pct_bad_or_very_bad_health"
QUERY = f"layers=deprivation,wards,indicators,services&ind=census_ward:{IND}&cls=natural_breaks&k=4"


@pytest.fixture(scope="module")
def page_file(store, artifacts):
    from layers.export_html import standalone_html
    state, notices = VS.parse_query_string(QUERY, VS.known_from_store(store))
    assert notices == []
    p = artifacts / "export_indicator.html"
    p.write_text(standalone_html(store, state, notes=[]), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def opened(page_file, artifacts):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        log = {"requests": [], "failed": [], "console": []}
        page.on("request", lambda r: log["requests"].append(r.url))
        page.on("requestfailed", lambda r: log["failed"].append(r.url))
        page.on("console", lambda m: log["console"].append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: log["console"].append(str(e)))
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function("() => (document.body.getAttribute('data-lsc-ind') || '').indexOf(':') > 0",
                               timeout=60_000)
        yield page, log
        browser.close()


def test_export_needs_nothing_outside_itself(opened, page_file):
    page, log = opened
    page.wait_for_timeout(1500)            # anything fetched after the first paint (instant files)
    assert log["failed"] == []
    assert log["console"] == []
    others = [u for u in log["requests"] if u != page_file.as_uri() and not u.startswith("data:")]
    assert others == [], others
    assert page.evaluate("() => document.body.getAttribute('data-lsc-error')") is None


def test_hover_shows_the_indicator_value(opened, store, artifacts):
    page, _ = opened
    census = I.load_builtin("census_ward", store).prepare()
    label = census.meta[IND]["label"]
    v = census.values(IND)
    # a Dec-2019 ward with a value whose own ward label point lies inside it
    w19 = store.wards19.reset_index(drop=True)
    ok = v[v["status"] == "ok"]
    pt = None
    for i, row in w19.iterrows():
        if row["wd19cd"] in ok.index:
            c = row["geometry"].representative_point()
            pt, code, name = (c.y, c.x), row["wd19cd"], row["wd19nm"]
            break
    assert pt is not None
    page.evaluate("(ll) => { LSC.map.setView(ll, 12, {animate: false}); }", list(pt))
    page.wait_for_timeout(300)
    xy = page.evaluate("(ll) => { const p = LSC.map.latLngToContainerPoint(ll);"
                       " const r = LSC.map.getContainer().getBoundingClientRect();"
                       " return [p.x + r.left, p.y + r.top]; }", list(pt))
    page.mouse.move(xy[0] - 3, xy[1] - 3)
    page.mouse.move(xy[0], xy[1], steps=3)
    tip = page.wait_for_selector(".lsc-tip", timeout=5000)
    page.wait_for_timeout(200)
    page.mouse.move(xy[0] + 1, xy[1], steps=1)
    text = tip.inner_text()
    page.screenshot(path=str(artifacts / "export_hover.png"))
    assert label in text, text
    dp = page.evaluate("() => LSC._hover[LSC.parts.indicators.hover].dp")
    assert f"{float(ok.loc[code, 'value']):,.{dp}f}" in text, text
    assert name in text
    assert "click for" not in text
    assert "IMD score" not in text


def test_no_data_is_hatched_not_white(opened):
    page, _ = opened
    fills = page.evaluate("""() => { const out = {hatch: 0, white: 0};
      LSC.ind.current.eachLayer(l => { const f = l.options.fillColor;
        if (f === LSC.hatch()) out.hatch++; else if (String(f).toLowerCase() === '#ffffff') out.white++; });
      return out; }""")
    assert fills["hatch"] > 0 and fills["white"] == 0


def test_snapshot_page_fits_legend_and_attribution(opened, artifacts):
    from render.png import SNAPSHOT_CSS
    page, _ = opened
    page.add_style_tag(content=SNAPSHOT_CSS)
    assert page.evaluate("() => LSC_fitLegend()") is True
    page.wait_for_timeout(200)
    m = page.evaluate("""() => { const p = document.getElementById('lsc-legend-panel');
      const f = document.getElementById('lsc-foot'), map = document.querySelector('.folium-map');
      const z = document.querySelector('.leaflet-control-zoom');
      const last = p.querySelector('.lsc-notes:last-child').getBoundingClientRect();
      return {fits: p.scrollHeight <= p.clientHeight + 1, lastBottom: last.bottom,
              panelBottom: p.getBoundingClientRect().bottom, footH: f.scrollHeight, footClient: f.clientHeight,
              footTop: f.getBoundingClientRect().top, mapBottom: map.getBoundingClientRect().bottom,
              zoom: z ? getComputedStyle(z).display : 'none', text: p.innerText, foot: f.innerText,
              vh: window.innerHeight, footBottom: f.getBoundingClientRect().bottom}; }""")
    page.screenshot(path=str(artifacts / "export_snapshot_fit.png"))
    assert m["fits"] and m["lastBottom"] <= m["panelBottom"] + 1
    assert "Services in LSC (open on" in m["text"]               # the services legend is in the picture
    assert m["footH"] <= m["footClient"] + 1 and m["footBottom"] <= m["vh"] + 1
    assert m["mapBottom"] <= m["footTop"] + 1               # the map ends above the attribution
    assert "Royal Mail" in m["foot"] and m["foot"].rstrip().endswith("(OGL).")
    assert m["zoom"] == "none"


def test_snapshot_cli_png(store, artifacts):
    """`python -m geo snapshot` end to end: a PNG of the access view (threshold rings,
    cased Core20 outline), at the size asked for."""
    import subprocess
    import sys

    from geo.paths import ROOT
    out = artifacts / "snapshot_access.png"
    r = subprocess.run([sys.executable, "-m", "geo", "snapshot", "--url-state",
                        "layers=deprivation,wards,access&acc=screening&thr=10", "--out", str(out),
                        "--width", "1280", "--height", "720"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 720)
