"""Browser test of the outreach planner: plan 3 stops in Blackpool and see them on the
map, numbered, with their coverage circles; nothing leaves localhost."""
from __future__ import annotations

from playwright.sync_api import sync_playwright

from tests.e2e.harness import MAP_IFRAME, ROOT, Server, choose, is_local, launch_browser, map_frame, wait_idle

ART = ROOT / "artifacts"


def _stops(page, want: int, timeout_ms: int = 90_000) -> list[str]:
    got: list[str] = []
    for _ in range(timeout_ms // 200):
        try:
            got = map_frame(page).evaluate(
                "() => Array.from(document.querySelectorAll('.lsc-plan-stop')).map(e => e.innerText.trim())")
        except Exception:
            got = []
        if len(got) == want:
            return got
        page.wait_for_timeout(200)
    return got


def test_plan_three_stops_in_blackpool(store):
    ART.mkdir(exist_ok=True)
    with Server() as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        requests: list[str] = []
        ctx.on("request", lambda r: requests.append(r.url))
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url)
        wait_idle(page)
        choose(page, "Area", "District: Blackpool", typed="Blackpool")
        wait_idle(page)
        page.get_by_text("Plan outreach (HARI bus stops)", exact=True).click()
        wait_idle(page, timeout=120_000)
        k = page.get_by_label("Stops (k)")
        k.fill("3")
        k.press("Enter")
        wait_idle(page, timeout=120_000)
        labels = _stops(page, 3)
        assert labels == ["1", "2", "3"], labels
        fr = map_frame(page)
        page.wait_for_timeout(1500)
        page.locator(MAP_IFRAME).screenshot(path=str(ART / "planner_blackpool_map.png"))
        page.screenshot(path=str(ART / "planner_blackpool.png"), full_page=True)
        circles = fr.evaluate("() => Object.values(LSC.map._layers).filter(l => l instanceof L.Circle)"
                              ".map(l => l.getRadius())")
        assert circles == [1500, 1500, 1500]
        assert page.get_by_text("Covered share against the number of stops").count() == 1
        browser.close()
    assert not errors, errors
    assert all(is_local(u) for u in requests), [u for u in requests if not is_local(u)][:5]
