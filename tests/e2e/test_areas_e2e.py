"""Browser test: a saved custom area opened from its link (`?area=custom:NAME`) outlines
its 15 LSOAs on the map offline, shows in the Area filter and opens its profile; picking
a place afterwards outlines that one feature again (the outline takes one or many)."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import sync_playwright

from geo import areas as A
from geo import footprint as F
from geo import userdb
from tests.e2e.harness import (ROOT, Server, choose, is_local, launch_browser, map_frame, open_recorded,
                               wait_applied, wait_idle)

ART = ROOT / "artifacts"
NAME = "Central Blackpool <i>test</i>"
BLACKPOOL3 = ["E05015188", "E05015189", "E05015190"]


@pytest.fixture(scope="module")
def session(store, tmp_path_factory):
    ART.mkdir(exist_ok=True)
    user = tmp_path_factory.mktemp("areas_user")
    db = userdb.UserDB(f"sqlite:///{user / userdb.DB_FILE}")
    lsc = F.footprint(store, F.LSC_CODE)
    A.save_area(A.make_area(lsc, NAME, A.from_wards(lsc, BLACKPOOL3)), db=db)
    db.engine.dispose()
    env = {"LSC_USER_DATA_DIR": str(user), "LSC_DATABASE_URL": ""}
    with Server(timeout=180, env=env) as srv, sync_playwright() as pw:
        browser = launch_browser(pw)
        page, requests = open_recorded(browser, f"{srv.url}/?area={quote('custom:' + NAME)}",
                                       {"width": 1500, "height": 1000})
        v = wait_applied(page, timeout=180_000)
        yield {"page": page, "requests": requests, "v": v}
        browser.close()


def test_custom_area_from_a_link(session):
    page = session["page"]
    fr = map_frame(page)
    wait_idle(page)
    assert fr.evaluate("() => LSC.layers.area.getLayers().length") == 15
    assert page.get_by_role("combobox", name="Area", exact=True).input_value() == f"Custom area: {NAME}"
    page.get_by_role("heading", name=f"Custom area: {NAME} · IoD2025").wait_for(timeout=60_000)
    assert "<i>test</i>" in page.inner_text("body")          # shown as typed, not as HTML
    assert page.locator("i", has_text="test").count() == 0
    page.screenshot(path=str(ART / "custom_area.png"))
    v0 = fr.evaluate("() => LSC.applied")
    choose(page, "Area", "Place (legacy five): Fylde Coast")
    wait_idle(page)
    wait_applied(page, v0)
    assert map_frame(page).evaluate("() => LSC.layers.area.getLayers().length") >= 1
    assert page.get_by_role("heading", name=f"Custom area: {NAME} · IoD2025").count() == 0
    external = sorted({u for u in session["requests"] if not is_local(u)})
    assert external == []
