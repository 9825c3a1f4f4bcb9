"""Browser test of the indicator layer on real data: the choropleth paints, its legend
shows class ranges, period, source and the missing count; switching classification
repaints with mapclassify's breaks; the bivariate view paints; a diverging palette is
centred on the England value; nothing leaves localhost."""
from __future__ import annotations

import time

import mapclassify as mc
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from geo import classify as C
from geo import indicators as I
from tests.e2e.harness import open_recorded, pixels_js, ROOT, Server, choose, is_local, launch_browser, map_frame, wait_idle

ART = ROOT / "artifacts"

PIXELS_JS = pixels_js("leaflet-lsc-ind-pane")


def pick(page, label: str, option: str):
    """choose(), after scrolling the (deep-in-the-sidebar) selectbox into view: a scroll
    while the list is open closes it."""
    page.get_by_role("combobox", name=label, exact=True).scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    choose(page, label, option)


def click_text(page, text: str):
    el = page.get_by_text(text, exact=True)
    el.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    el.click()


def ind_state(page):
    fr = map_frame(page)
    return fr.evaluate("() => [document.body.getAttribute('data-lsc-ind'), "
                       "document.body.getAttribute('data-lsc-error')]")


def wait_ind(page, previous: str | None = None, timeout: float = 60) -> str:
    """Wait until the indicator painter finished a round other than `previous`."""
    deadline = time.time() + timeout
    while True:
        try:
            v, err = ind_state(page)
        except Exception:
            v, err = None, None
        if err:
            raise AssertionError(f"map runtime error: {err}")
        if v and v != "off" and v != previous:
            return v
        if time.time() > deadline:
            raise TimeoutError(f"indicator layer did not repaint (still {v!r})")
        page.wait_for_timeout(25)


@pytest.fixture(scope="module")
def session():
    ART.mkdir(exist_ok=True)
    with Server() as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        page, requests = open_recorded(browser, srv.url, {"width": 1500, "height": 1100})
        page.get_by_text("Indicators (choropleth)", exact=True).click()
        wait_idle(page)
        v = wait_ind(page)
        yield {"page": page, "requests": requests, "v": v}
        browser.close()


@pytest.fixture(scope="module")
def census(store):
    return I.load_builtin("census_ward", store)


def _legend_text(page) -> str:
    return page.inner_text("body")


def test_census_ward_choropleth_paints_with_honest_legend(session, store, census):
    page = session["page"]
    labels = I.builtin_labels()
    pick(page, "Indicator dataset", labels["census_ward"])
    wait_idle(page)
    v = wait_ind(page, session["v"])
    fr = map_frame(page)
    part = fr.evaluate("() => LSC.parts.indicators")
    # auto ward vintage: the Census 2022 codes match more Dec-2019 wards than May-2024 ones
    assert part["object"] == ("wards19" if census.target == "wd19" else "wards")
    codes = (store.wards19.wd19cd if census.target == "wd19" else store.wards24.wd24cd).tolist()
    ind = census.indicators()[0]
    vals = census.values(ind)
    y = vals["value"].reindex(codes).to_numpy(float)
    ok = np.isfinite(y)
    n_missing = int((~ok).sum())
    assert n_missing == len(codes) - census.report.matched_codes
    # the browser got the class of every area, in store order, = mapclassify quantiles
    q = mc.Quantiles(y[ok], k=5)
    exp = np.full(len(codes), -1)
    exp[ok] = q.yb
    assert part["cls"] == exp.tolist()
    painted = int(v.split(":")[1])
    assert painted == int(ok.sum()) == census.report.matched_codes
    px = fr.evaluate(PIXELS_JS)
    assert px is not None and px["painted"] / px["sampled"] > 0.03 and px["colours"] >= 5
    # the deprivation fill stepped aside (no second choropleth under this one); Core20 stays
    assert fr.evaluate("() => LSC.map.hasLayer(LSC.layers.fill)") is False
    assert fr.evaluate("() => LSC.map.hasLayer(LSC.layers.core20)") is True
    # legend: title, every class range with its count, period, source, missing count
    body = _legend_text(page)
    meta = census.meta[ind]
    assert meta["label"] in body
    cls = C.classify(y, "quantiles", 5)
    rows = C.legend_rows(cls, C.palette(cls), C.decimals_for(y[ok], cls.bins))
    for r in rows:
        if r["kind"] == "class":
            assert f"{r['label']}  ({r['count']})".replace("  ", " ") in body.replace("  ", " ")
    assert "Period: Census 2021" in body
    assert "ONS Census 2021" in body
    assert f"No data ({n_missing})" in body
    assert "Suppressed (0)" in body
    assert "Code-vintage report" in body
    page.screenshot(path=str(ART / "indicators_choropleth.png"))


def test_switch_to_natural_breaks_repaints_with_mapclassify_breaks(session, store, census):
    page = session["page"]
    prev, _ = ind_state(page)
    pick(page, "Classes", C.METHODS["natural_breaks"])
    wait_idle(page)
    wait_ind(page, prev)
    codes = (store.wards19.wd19cd if census.target == "wd19" else store.wards24.wd24cd).tolist()
    ind = census.indicators()[0]
    y = census.values(ind)["value"].reindex(codes).to_numpy(float)
    ok = np.isfinite(y)
    fj = mc.FisherJenks(y[ok], k=5)
    part = map_frame(page).evaluate("() => LSC.parts.indicators")
    exp = np.full(len(codes), -1)
    exp[ok] = fj.yb
    assert part["cls"] == exp.tolist()
    body = _legend_text(page)
    d = C.decimals_for(y[ok], fj.bins)
    assert f"{fj.bins[-1]:,.{d}f}" in body and f"{fj.bins[0]:,.{d}f}" in body
    assert "Natural breaks (Fisher-Jenks)" in body


# a fill that is not a colour string is the no-data hatch (a CanvasPattern: LSC.hatch)
IND_FILL_JS = """() => { const out = []; LSC.ind.current.eachLayer(l => { const f = l.options.fillColor;
  out[l._indI] = typeof f === "string" ? f : (f === LSC.hatch() ? "hatch" : "?"); });
  return out; }"""


def test_instant_indicator_switch_matches_the_rerun(session, store, census):
    """Switching indicator repaints from the instant file before the rerun; the rerun's
    round then paints exactly the same colours (and the classes the rerun sent)."""
    page = session["page"]
    fr = map_frame(page)
    fr.wait_for_function("() => { const i = LSC.parts.indicators && LSC.parts.indicators.instant;"
                         " return !!(i && LSC._instantData[i.url]); }", timeout=20_000, polling=50)
    assert fr.evaluate("() => LSC.parts.indicators.instant.key") == f"{census.indicators()[0]}|natural_breaks"
    ind = census.indicators()[1]
    prev, _ = ind_state(page)
    n0 = fr.evaluate("() => LSC.instantCount || 0")
    pick(page, "Indicator", census.meta[ind]["label"])
    fr.wait_for_function(f"() => (document.body.getAttribute('data-lsc-ind-instant') || '')"
                         f".startsWith('{ind}|natural_breaks:')", timeout=10_000, polling=5)
    instant = fr.evaluate(IND_FILL_JS)
    assert fr.evaluate("() => LSC.instantCount") == n0 + 1
    wait_idle(page)
    wait_ind(page, prev)
    fr = map_frame(page)
    assert fr.evaluate(IND_FILL_JS) == instant
    part = fr.evaluate("() => LSC.parts.indicators")
    assert part["instant"]["key"] == f"{ind}|natural_breaks"
    # and the classes are mapclassify's natural breaks of this indicator
    codes = (store.wards19.wd19cd if census.target == "wd19" else store.wards24.wd24cd).tolist()
    y = census.values(ind)["value"].reindex(codes).to_numpy(float)
    ok = np.isfinite(y)
    exp = np.full(len(codes), -1)
    exp[ok] = mc.FisherJenks(y[ok], k=5).yb
    assert part["cls"] == exp.tolist()
    assert instant == [part["colors"][c] if c >= 0 else "hatch" for c in part["cls"]]
    prev, _ = ind_state(page)
    pick(page, "Indicator", census.meta[census.indicators()[0]]["label"])
    wait_idle(page)
    wait_ind(page, prev)


def test_bivariate_view_paints(session, store, census):
    page = session["page"]
    prev, _ = ind_state(page)
    click_text(page, "Bivariate × Core20")
    wait_idle(page)
    v = wait_ind(page, prev)
    fr = map_frame(page)
    part = fr.evaluate("() => LSC.parts.indicators")
    assert part["colors"] == [c for row in C.BIVARIATE for c in row]
    cls = np.array(part["cls"])
    assert set(cls[cls >= 0]) <= set(range(9))
    painted = int(v.split(":")[1])
    assert painted == int((cls >= 0).sum()) > 100
    # cells agree with geo: indicator tertile x Core20 share of the ward
    codes = (store.wards19.wd19cd if census.target == "wd19" else store.wards24.wd24cd).tolist()
    ind = census.indicators()[0]
    y = census.values(ind)["value"].reindex(codes).to_numpy(float)
    af = I.area_frame(store, census.target)
    exp = C.bivariate_class(C.tertiles(y, census.meta[ind]["polarity"]),
                            C.core20_level(af["core20_share"].reindex(codes).to_numpy(float)))
    assert cls.tolist() == np.where(exp >= 0, exp, -1).tolist()
    px = fr.evaluate(PIXELS_JS)
    assert px is not None and px["colours"] >= 5
    body = _legend_text(page)
    assert "50%+ Core20" in body and "worst third" in body and "Bivariate" in body
    # the key is the 3 x 3 grid: its cells carry the map's colours, top row = 50%+ Core20
    cells = page.locator(".lsc-bigrid td.cell")
    assert cells.count() == 9
    bg = [cells.nth(i).evaluate("e => e.style.background || e.style.backgroundColor") for i in range(9)]
    assert bg[2] and bg[2] == page.evaluate("(c) => { const d = document.createElement('div'); d.style.background = c;"
                                            " return d.style.background; }", C.BIVARIATE[2][2])
    page.screenshot(path=str(ART / "indicators_bivariate.png"))
    click_text(page, "Choropleth")
    wait_idle(page)
    wait_ind(page, v)


def test_diverging_centred_on_england_for_fingertips(session, store):
    page = session["page"]
    labels = I.builtin_labels()
    prev, _ = ind_state(page)
    n0 = map_frame(page).evaluate("() => LSC.instantCount || 0")
    guards = map_frame(page).evaluate("() => LSC.parts.indicators.instant && LSC.parts.indicators.instant.guards")
    assert guards and guards["indicators_dataset"] == labels["census_ward"]     # by widget key (layers/controls.py)
    pick(page, "Indicator dataset", labels["fingertips_lad"])
    wait_idle(page)
    prev = wait_ind(page, prev)
    # a dataset change is never painted from the old dataset's instant file
    assert map_frame(page).evaluate("() => LSC.instantCount || 0") == n0
    click_text(page, "Diverging around a comparator")
    wait_idle(page)
    wait_ind(page, prev)
    ft = I.load_builtin("fingertips_lad", store)
    ind = ft.indicators()[0]
    per = ft.latest_period(ind)
    eng, _ = ft.comparator(ind, per, "England")
    body = _legend_text(page)
    assert f"diverging around England = {eng:,.1f}" in body
    part = map_frame(page).evaluate("() => LSC.parts.indicators")
    assert part["object"] == "districts"
    v = ft.values(ind, per)["value"].reindex(store.districts.lad19cd).to_numpy(float)
    cls = np.array(part["cls"])
    assert (cls == -1).sum() == int(np.isnan(v).sum()) > 0      # Barrow & South Lakeland: no data
    assert f"No data ({int(np.isnan(v).sum())})" in body
    page.screenshot(path=str(ART / "indicators_diverging.png"))


def test_uploaded_fingertips_file_with_bad_rows_maps_valid_part(session, store, tmp_path):
    """A user's Fingertips-layout export with suppressed, non-numeric, duplicated and
    mixed-type rows and a hostile indicator name: the report lists the problems, the
    valid districts paint, the name is shown as text (never run as HTML)."""
    page = session["page"]
    d = store.districts[["lad19cd", "lad19nm"]].values.tolist()
    evil = '<img src=x onerror="document.body.setAttribute(\'data-pwned\',1)">Bowel screening'
    cols = ["Indicator ID", "Indicator Name", "Area Code", "Area Name", "Area Type", "Sex", "Age",
            "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
            "Count", "Denominator", "Value note"]

    def row(code, name, value, typ="District"):
        return [91280, evil, code, name, typ, "Persons", "60-74 yrs", "", "", "2023/24", value, "", "", "", "", ""]
    rows = [row("E92000001", "England", "70.3", "England")]
    rows += [row(c, n, str(60 + i)) for i, (c, n) in enumerate(d[:10])]
    rows += [row(d[10][0], d[10][1], "*"), row(d[11][0], d[11][1], "oops"),
             row(d[12][0], d[12][1], "50"), row(d[12][0], d[12][1], "51"),
             row("E05001643", "Anchorsholme", "55", "Ward")]
    p = tmp_path / "bowel_screening_export.csv"
    pd.DataFrame(rows, columns=cols).to_csv(p, index=False)
    prev, _ = ind_state(page)
    inp = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    inp.set_input_files(str(p))
    wait_idle(page)
    pick(page, "Indicator dataset", f"Your file: {p.name}")
    wait_idle(page)
    v = wait_ind(page, prev)
    painted = int(v.split(":")[1])
    assert painted == 10                      # the ten valid districts
    part = map_frame(page).evaluate("() => LSC.parts.indicators")
    cls = part["cls"]
    codes = store.districts.lad19cd.tolist()
    assert cls[codes.index(d[10][0])] == -2   # suppressed drawn distinctly
    assert cls[codes.index(d[11][0])] == -1 and cls[codes.index(d[12][0])] == -1
    body = page.inner_text("body")
    assert "Suppressed (1)" in body and f"No data ({len(codes) - 11})" in body
    assert "non-numeric value 'oops'" in body
    assert "different values" in body and "mixed area types" in body
    assert "Bowel screening" in body and "<img" in body          # shown as text
    assert page.evaluate("() => document.body.getAttribute('data-pwned')") is None
    assert page.locator("img[src='x']").count() == 0
    page.screenshot(path=str(ART / "indicators_upload.png"))


def test_no_request_left_localhost(session):
    remote = [u for u in session["requests"] if not is_local(u)]
    assert not remote, remote[:5]
