"""Browser test: services outside LSC (issue #12 item 5). `?icb=E54000059` draws
Northamptonshire's NHS hospital sites and CDCs (GP practices once switched on), from the
England-wide files, offline; the legend names the footprint and the CDC data date."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import sync_playwright

from geo import services as sv
from tests.e2e.harness import ROOT, Server, is_local, launch_browser, map_frame, wait_applied, wait_idle

ART = ROOT / "artifacts"
NORTHANTS = "E54000059"


def _count(page) -> int:
    try:
        return int(map_frame(page).evaluate("() => document.body.getAttribute('data-lsc-services') || '-1'"))
    except Exception:
        return -1


def _wait(page, want: int, timeout_ms: int = 90_000) -> int:
    got = -1
    for _ in range(timeout_ms // 200):
        got = _count(page)
        if got == want:
            break
        page.wait_for_timeout(200)
    return got


def test_northamptonshire_services_on_the_map(store):
    from layers.services import status_on
    ART.mkdir(exist_ok=True)
    reg = sv.load_register(include_user=False, icb=NORTHANTS)
    open_ = reg.records[status_on(reg.records, dt.date.today().isoformat()).isin(["open", "today"])]
    n_gp = int((open_["category"] == "gp").sum())
    n_other = len(open_) - n_gp
    assert n_gp > 40 and n_other >= 3 + 1
    with Server(timeout=180) as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
        requests: list[str] = []
        ctx.on("request", lambda r: requests.append(r.url))
        page = ctx.new_page()
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.goto(f"{srv.url}/?icb={NORTHANTS}")     # as harness.open_recorded, with room for a busy machine
        wait_idle(page, timeout=240_000)
        wait_applied(page, timeout=180_000)
        wait_idle(page, timeout=240_000)          # the full page follows the map (slow on a busy machine)
        # hospitals and CDCs are on by default, GP practices off (as in LSC)
        assert _wait(page, n_other) == n_other
        page.get_by_text("GP practices (", exact=False).first.click()
        wait_idle(page, timeout=120_000)
        assert _wait(page, n_other + n_gp) == n_other + n_gp
        fr = map_frame(page)
        assert fr.evaluate("() => document.querySelectorAll('.leaflet-marker-pane .lsc-svc-cdc').length") == 3
        body = page.inner_text("body")
        assert "Services in NHS Northamptonshire ICB" in body and "21.10.25" in body
        assert "Alcohol Care Team" not in body
        page.screenshot(path=str(ART / "services_northamptonshire.png"))
        assert [u for u in requests if not is_local(u)] == []
        browser.close()
