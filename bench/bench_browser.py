"""One real person in bench_load.py's crowd: a headless Chromium making the everyday clicks
through the page, each timed until the page is idle again (script finished, full page, no
skeletons). A check that the page still paints under load, not the load itself."""
from __future__ import annotations

import random
import time

from tests.e2e.harness import APP_IDLE, CHROMIUM, CHROMIUM_ARGS, FIRST_PAINT_MARK, MAP_IFRAME, _IDLE_JS

CLICK_TIMEOUT_MS = 60_000


async def _idle(page):
    await page.wait_for_timeout(100)
    await page.wait_for_selector(APP_IDLE, timeout=CLICK_TIMEOUT_MS)
    await page.wait_for_function(_IDLE_JS, arg=FIRST_PAINT_MARK, timeout=CLICK_TIMEOUT_MS, polling=50)


async def _choose(page, label: str, option: str, typed: str | None = None):
    cb = page.get_by_role("combobox", name=label, exact=True)
    await cb.click(timeout=CLICK_TIMEOUT_MS)
    if typed is not None:
        await cb.fill(typed)
    await page.get_by_role("option", name=option, exact=True).click(timeout=CLICK_TIMEOUT_MS)


async def _page_errors(page) -> list[str]:
    out = []
    n = await page.locator("[data-testid='stException']").count()
    if n:
        out.append(f"{n} exception element(s) on the page")
    try:
        err = await page.frame_locator(MAP_IFRAME).locator("body").get_attribute("data-lsc-error", timeout=2000)
        if err:
            out.append(f"map runtime error: {err}")
    except Exception:
        pass
    return out


async def _painted(page) -> bool:
    """The map iframe has drawn its canvas (the runtime's data-lsc-applied mark)."""
    try:
        v = await page.frame_locator(MAP_IFRAME).locator("body").get_attribute("data-lsc-applied", timeout=5000)
        return bool(v)
    except Exception:
        return False


async def browser_clicks(url: str, deadline: float, wards: list, rec: dict, areas: list, measures: list) -> None:
    from playwright.async_api import async_playwright
    rnd = random.Random(99)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        try:
            t = time.perf_counter()
            await page.goto(url, timeout=CLICK_TIMEOUT_MS)
            await _idle(page)
            rec["clicks"].append(("page_ready", time.perf_counter() - t))
            if not await _painted(page):
                rec["errors"].append("open: the map did not paint")
        except Exception as e:
            rec["errors"].append(f"open: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
            await browser.close()
            return
        cur = {"area": areas[-1], "measure": "Index of Multiple Deprivation"}
        step = 0
        while time.perf_counter() < deadline:
            kind = ("area", "wards_off", "wards_on", "measure", "ward_open", "ward_close")[step % 6]
            step += 1
            t = time.perf_counter()
            try:
                if kind == "area":
                    cur["area"] = rnd.choice([a for a in areas if a != cur["area"]])
                    await _choose(page, "Area", cur["area"])
                elif kind in ("wards_off", "wards_on"):
                    await page.get_by_text("Wards (May 2024)", exact=True).click(timeout=CLICK_TIMEOUT_MS)
                elif kind == "measure":
                    cur["measure"] = rnd.choice([m for m in measures if m != cur["measure"]])
                    await _choose(page, "Measure", cur["measure"])
                elif kind == "ward_open":
                    name, label = wards[rnd.randrange(len(wards))]
                    await _choose(page, "Find a ward", label, typed=name)
                else:
                    await page.get_by_role("button", name="Close ward profile").click(timeout=CLICK_TIMEOUT_MS)
                await _idle(page)
                if kind == "ward_open":
                    await page.get_by_role("heading", name=name, exact=True).wait_for(
                        timeout=CLICK_TIMEOUT_MS)
                rec["clicks"].append((kind, time.perf_counter() - t))
            except Exception as e:
                rec["errors"].append(f"{kind}: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
                try:        # carry on from a fresh page, as a person would reload
                    await page.goto(url, timeout=CLICK_TIMEOUT_MS)
                    await _idle(page)
                    step = 0
                except Exception:
                    break
            rec["errors"].extend(f"{kind}: {e}" for e in await _page_errors(page))
            await page.wait_for_timeout(rnd.randint(300, 1200))
        if not await _painted(page):
            rec["errors"].append("end: the map is not painted")
        await browser.close()
