"""Map first, in Chromium: the first run paints the map, the runtime signals it, and the
full page (controls, tables) follows without remounting the map; if the signal never
comes (e.g. the runtime is broken), a timer brings the full page anyway."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.harness import MAP_IFRAME, Server, launch_browser, wait_idle


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = launch_browser(pw)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(browser):
    with Server() as srv:
        yield srv, browser


@pytest.fixture(scope="module")
def server_without_fallback(browser):
    """The fallback timer pushed beyond the test's own waits: a full page that comes at all
    was brought by the signal (no timing assertion, which a loaded machine would break)."""
    with Server(env={"LSC_FIRST_PAINT_FALLBACK_S": "600"}) as srv:
        yield srv, browser


def _painted(page) -> bool:
    el = page.query_selector(MAP_IFRAME)
    fr = el.content_frame() if el else None
    try:
        return bool(fr and fr.evaluate("() => document.body.getAttribute('data-lsc-painted')"))
    except Exception:
        return False


def test_full_page_follows_the_first_paint_signal(server_without_fallback, store):
    srv, browser = server_without_fallback
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    geo = []
    ctx.on("request", lambda r: geo.append(r.url) if "/app/static/gen/geo." in r.url else None)
    page = ctx.new_page()
    page.goto(srv.url, wait_until="commit")
    deadline = time.time() + 60
    while not _painted(page):
        assert time.time() < deadline, "map never painted"
        page.wait_for_timeout(10)
    fr = page.query_selector(MAP_IFRAME).content_frame()
    wait_idle(page)               # waits for the full page (the timer is 600 s away)
    assert page.get_by_role("combobox", name="Measure", exact=True).count() == 1
    assert page.locator("[data-testid='stDataFrame']").count() >= 1      # ward table
    assert fr.evaluate("() => LSC._signalled") is True
    # same map frame throughout: geometry fetched once, the first round still applied
    assert page.query_selector(MAP_IFRAME).content_frame() == fr
    assert len(geo) == 1
    # the default vintage (IoD2025) paints the 2021 LSOA polygons
    assert int(fr.evaluate("() => document.body.getAttribute('data-lsc-painted')")) == len(store.lsoa25)
    ctx.close()


def test_full_page_comes_without_the_signal(server):
    srv, browser = server
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})

    def no_signal(route):
        body = route.fetch().text()
        assert "window.Streamlit.setComponentValue(" in body
        route.fulfill(body=body.replace("window.Streamlit.setComponentValue(", "void ("),
                      content_type="application/javascript")
    ctx.route("**/app/static/gen/lscmap.*.js*", no_signal)
    page = ctx.new_page()
    page.goto(srv.url)
    wait_idle(page, timeout=60_000)
    assert page.get_by_role("combobox", name="Measure", exact=True).count() == 1
    fr = page.query_selector(MAP_IFRAME).content_frame()
    assert fr.evaluate("() => LSC._signalled") is True       # it tried; nothing was sent
    ctx.close()
