"""Browser tests for the services layer: markers draw, popups show escaped text, an
upload with bad rows shows the row report. Streamlit + Playwright + Debian Chromium."""
from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from geo import services as sv
from tests.e2e.harness import ROOT, Server, is_local, launch_browser, map_frame, wait_idle

ART = ROOT / "artifacts"
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss2=1</script>"
UPLOAD = (
    "id,name,category,postcode,lat,lon\n"
    f'E2E-1,"{XSS_IMG.replace(chr(34), chr(34) * 2)}",hospital,PR2 9HT,,\n'
    f"E2E-2,{XSS_SCRIPT},hospital,BB10 2PQ,,\n"
    "E2E-3,In the sea,hospital,,53.85,-3.35\n"
    "E2E-4,Unknown postcode,hospital,ZZ99 9ZZ,,\n"
    "E2E-1,Duplicate id,hospital,FY3 8NR,,\n"
)


def _services_count(fr) -> int:
    return int(fr.evaluate("() => document.body.getAttribute('data-lsc-services') || '-1'"))


def _wait_services(page, want: int, timeout_ms: int = 60_000) -> int:
    got = -1
    for _ in range(timeout_ms // 100):
        try:
            got = _services_count(map_frame(page))
        except Exception:
            got = -1
        if got == want:
            return got
        page.wait_for_timeout(100)
    return got


@pytest.fixture(scope="module")
def session(tmp_path_factory, store):
    ART.mkdir(exist_ok=True)
    user = tmp_path_factory.mktemp("user")
    with Server(env={"LSC_USER_DATA_DIR": str(user)}) as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        requests: list[str] = []
        ctx.on("request", lambda r: requests.append(r.url))
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url)
        wait_idle(page)
        yield {"page": page, "requests": requests, "errors": errors}
        browser.close()


def _solid(records):
    """Markers drawn solid today: open sites and HARI bus stops dated today (a past stop
    is a visit, a later one is planned: both hollow, hidden by default)."""
    import datetime as dt
    from layers.services import status_on
    return records[status_on(records, dt.date.today().isoformat()).isin(["open", "today"])]


def _expected_open() -> tuple[int, int]:
    open_ = _solid(sv.load_register(include_user=False).records)
    return len(open_), int((open_["category"] != "gp").sum())


def _toggle(page, label: str, expect: int) -> None:
    """Click a category checkbox; the map must then hold exactly `expect` service points."""
    page.get_by_text(label, exact=False).first.click()
    wait_idle(page)
    assert _wait_services(page, expect) == expect


def test_service_layers_draw(session):
    page = session["page"]
    n_all, n_shapes = _expected_open()
    hari = len(_solid(sv.load_register(include_user=False).category("hari_bus")))
    # GP practices (197 points, clusters) and the ILLUSTRATIVE bus schedule are off by default
    assert _wait_services(page, n_shapes - hari) == n_shapes - hari
    assert map_frame(page).evaluate("() => document.querySelectorAll('.marker-cluster').length") == 0
    _toggle(page, "GP practices (", n_all - hari)
    _toggle(page, "HARI bus stops (", n_all)
    fr = map_frame(page)
    # non-GP categories are SVG shapes in the DOM; GP practices are canvas circles (clustered)
    assert fr.evaluate("() => document.querySelectorAll('.leaflet-marker-pane .lsc-svc').length") == n_shapes
    assert fr.evaluate("() => document.querySelectorAll('.marker-cluster').length") > 0
    assert page.get_by_text("GP practices: 197 shown").count() == 1
    # outreach recency table for the priority wards (derived candidates are on by default)
    assert page.get_by_text("Outreach recency in the whole ICB: priority wards", exact=False).count() == 1
    page.screenshot(path=str(ART / "services_layers.png"))
    # switching one category off redraws without it
    _toggle(page, "HARI bus stops (", n_all - hari)
    _toggle(page, "HARI bus stops (", n_all)
    assert [u for u in session["requests"] if not is_local(u)] == []


def test_upload_with_bad_rows_shows_report_and_popup_is_escaped(session):
    page = session["page"]
    n_all, _ = _expected_open()
    page.get_by_text("Upload services (CSV, XLSX, GeoJSON)").click()
    exp = page.locator('[data-testid="stExpander"]', has_text="Upload services")
    exp.locator('input[type="file"]').set_input_files(
        files=[{"name": "hostile.csv", "mimeType": "text/csv", "buffer": UPLOAD.encode()}])
    wait_idle(page)
    page.wait_for_selector("text=hostile.csv: 2 row(s) loaded, 3 rejected", timeout=60_000)
    # the report sits under the map (room for row, field and reason), with the rows as a CSV
    rep = page.locator('[data-testid="stExpander"]').filter(
        has=page.locator("summary", has_text="Upload report: hostile.csv"))
    rep.first.wait_for(timeout=30_000)
    with page.expect_download(timeout=30_000) as dl:
        rep.first.get_by_text("Download rejected (CSV)").click()
    report = open(dl.value.path(), encoding="utf-8").read()
    for part in ("outside the footprint", "unknown postcode 'ZZ99 9ZZ'", "duplicate id 'E2E-1'"):
        assert part in report, report
    assert "field" in report.splitlines()[0].lower()
    page.screenshot(path=str(ART / "services_upload_report.png"), full_page=True)
    # the 2 accepted rows join the map for this session
    assert _wait_services(page, n_all + 2) == n_all + 2
    fr = map_frame(page)
    info = fr.evaluate("""(needle) => {
      let found = null;
      LSC.map.eachLayer(l => {
        if (!found && l.getPopup && l.getPopup() && String(l.getPopup().getContent()).includes(needle)) {
          found = l;
        }
      });
      if (!found) return null;
      found.openPopup();
      const el = document.querySelector('.leaflet-popup-content');
      return {text: el.innerText, imgs: el.querySelectorAll('img').length,
              scripts: el.querySelectorAll('script').length, xss: window.__xss || null, xss2: window.__xss2 || null};
    }""", "onerror")
    assert info is not None, "uploaded site not on the map"
    assert XSS_IMG in info["text"]                      # shown as text
    assert info["imgs"] == 0 and info["scripts"] == 0 and info["xss"] is None and info["xss2"] is None
    page.wait_for_timeout(300)
    page.screenshot(path=str(ART / "services_popup_escaped.png"))
    # tooltips are escaped too: no element was created from the names anywhere in the map
    assert fr.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert session["errors"] == []
    assert [u for u in session["requests"] if not is_local(u)] == []


def test_access_layer_draws_choropleth_and_summary(session, store):
    import datetime as dt

    from geo import access as ac
    page = session["page"]
    page.get_by_text("Access gaps (straight-line distance)").first.click()
    wait_idle(page)
    key = None
    for _ in range(600):
        key = map_frame(page).evaluate("() => document.body.getAttribute('data-lsc-access')")
        if key:
            break
        page.wait_for_timeout(100)
    assert key, "access choropleth not drawn"
    # the summary uses the same numbers as geo.access (screening, 5 km default threshold)
    res = ac.compute_access("screening", store=store, register=sv.load_register(include_user=False)
                            .with_upload(sv.import_bytes(UPLOAD.encode(), "hostile.csv")),
                            as_of=dt.date.today().isoformat())
    t = ac.summarise(res.per_lsoa, "ward", threshold_km=5)
    want = f"{int(t['population_beyond'].sum()):,} of {int(t['population'].sum()):,} people"
    page.get_by_text("Access gaps in the whole ICB", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text(want, exact=False).count() == 1
    assert page.get_by_text("beyond 5 km (straight-line)", exact=False).count() >= 1
    page.screenshot(path=str(ART / "access_layer.png"))
