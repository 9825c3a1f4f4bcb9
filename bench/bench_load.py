"""Load test: many people using one app server at once (a workshop, a team).

    .venv/bin/python bench/bench_load.py [--sessions 20] [--seconds 300] [--warmup 60]

One `streamlit run serve.py` (as `make run` serves it) and one headless Chromium with one
browser context per simulated person. Every session opens the app and then, until the
time is up, makes the everyday clicks in turn, each timed from the click until the page
is idle again (script finished, no skeletons): change the area, tick the wards layer
off and on, switch the deprivation measure, find a ward by name (until its profile is
shown). Sessions start a little apart, as people do.

Reports:
- errors (target 0): a click that timed out, an exception element on the page
  (Streamlit's stException), a map runtime error (data-lsc-error), or a traceback in the
  server log;
- p50 / p95 / max click time per kind of click and overall;
- server memory (RSS of the streamlit process, sampled every 2 s): at the end of the
  warm-up, at the end, and the growth between them (target: flat after warm-up), plus
  the peak.

All traffic goes to 127.0.0.1; every loop is bounded by --seconds (and each click by a
timeout). On this 2-vCPU machine the browser shares the CPUs with the server, so the
absolute click times include Chromium's own rendering of every session; compare runs
with the same --sessions. Writes bench/out/bench_load.json. Not a test: no pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (APP_IDLE, CHROMIUM, CHROMIUM_ARGS, FIRST_PAINT_MARK, MAP_IFRAME,  # noqa: E402
                               Server, _IDLE_JS)

AREAS = ["Place (current four): Blackpool", "Place (legacy five): Fylde Coast",
         "Place (legacy five): Pennine Lancashire", "District: Burnley",
         "Whole ICB (Lancashire and South Cumbria)"]
MEASURES = ["Income", "Health Deprivation and Disability", "Index of Multiple Deprivation",
            "Employment", "Crime"]
CLICK_TIMEOUT_MS = 60_000


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children (the script runs in the server)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 2.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self):
        t0 = time.perf_counter()
        while not self._halt.is_set():
            v = rss_mb(self.pid)
            if v is not None:
                self.samples.append((time.perf_counter() - t0, v))
            self._halt.wait(self.every)

    def stop(self):
        self._halt.set()
        self.join(5)

    def at(self, t: float) -> float | None:
        before = [v for s, v in self.samples if s <= t]
        return before[-1] if before else None


async def wait_idle(page, timeout=CLICK_TIMEOUT_MS):
    await page.wait_for_timeout(100)
    await page.wait_for_selector(APP_IDLE, timeout=timeout)
    await page.wait_for_function(_IDLE_JS, arg=FIRST_PAINT_MARK, timeout=timeout, polling=50)


async def choose(page, label: str, option: str, typed: str | None = None):
    cb = page.get_by_role("combobox", name=label, exact=True)
    await cb.click(timeout=CLICK_TIMEOUT_MS)
    if typed is not None:
        await cb.fill(typed)
    await page.get_by_role("option", name=option, exact=True).click(timeout=CLICK_TIMEOUT_MS)


async def page_errors(page) -> list[str]:
    out = []
    n = await page.locator("[data-testid='stException']").count()
    if n:
        out.append(f"{n} exception element(s) on the page")
    try:
        fr = page.frame_locator(MAP_IFRAME)
        err = await fr.locator("body").get_attribute("data-lsc-error", timeout=2000)
        if err:
            out.append(f"map runtime error: {err}")
    except Exception:
        pass
    return out


async def one_session(i: int, browser, url: str, deadline: float, wards: list[str], results: dict,
                      start_delay: float):
    await asyncio.sleep(start_delay)
    rnd = random.Random(i)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    rec = results.setdefault(i, {"clicks": [], "errors": []})
    try:
        t = time.perf_counter()
        await page.goto(url, timeout=CLICK_TIMEOUT_MS)
        await wait_idle(page)
        rec["clicks"].append(("page_ready", time.perf_counter() - t))
    except Exception as e:
        rec["errors"].append(f"open: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
        await ctx.close()
        return
    step = 0
    cur = {"area": AREAS[-1], "measure": "Index of Multiple Deprivation"}

    def other(kind, options):       # always a change: the same choice would not rerun
        cur[kind] = rnd.choice([o for o in options if o != cur[kind]])
        return cur[kind]

    while time.perf_counter() < deadline:
        kind = ("area", "wards_off", "wards_on", "measure", "ward_search")[step % 5]
        step += 1
        t = time.perf_counter()
        try:
            if kind == "area":
                await choose(page, "Area", other("area", AREAS))
            elif kind in ("wards_off", "wards_on"):
                await page.get_by_text("Wards (May 2024)", exact=True).click(timeout=CLICK_TIMEOUT_MS)
            elif kind == "measure":
                await choose(page, "Measure", other("measure", MEASURES))
            else:
                name, label = wards[rnd.randrange(len(wards))]
                await choose(page, "Find a ward", label, typed=name)
            await wait_idle(page)
            if kind == "ward_search":
                await page.get_by_role("heading", name=name, exact=True).wait_for(timeout=CLICK_TIMEOUT_MS)
            rec["clicks"].append((kind, time.perf_counter() - t))
        except Exception as e:
            rec["errors"].append(f"{kind}: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
            try:        # carry on from a fresh page, as a person would reload
                await page.goto(url, timeout=CLICK_TIMEOUT_MS)
                await wait_idle(page)
            except Exception:
                break
        errs = await page_errors(page)
        if errs:
            rec["errors"].extend(f"{kind}: {e}" for e in errs)
        await page.wait_for_timeout(rnd.randint(300, 1200))   # a person reads the screen
    await ctx.close()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(q * (len(xs) - 1)))))
    return xs[k]


async def run_load(url: str, sessions: int, seconds: float, wards: list[str]) -> dict:
    from playwright.async_api import async_playwright
    results: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        deadline = time.perf_counter() + seconds
        spread = min(20.0, seconds / 4)
        await asyncio.gather(*(one_session(i, browser, url, deadline, wards, results, spread * i / max(1, sessions))
                               for i in range(sessions)))
        await browser.close()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--warmup", type=float, default=60, help="seconds before memory growth is measured")
    args = ap.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        ap.error("--sessions and --seconds must be positive")
    from geo.store import load_store
    store = load_store()
    w = store.wards24
    wards = [(n, f"{n} ({d})") for n, d in zip(w["wd24nm"], w["lad19nm"])]
    with Server("app.py") as srv:
        # one warm-up visit so the first session does not pay the server's own start
        asyncio.run(run_load(srv.url, 1, 5, wards))
        mem = MemSampler(srv.proc.pid)
        mem.start()
        t0 = time.perf_counter()
        results = asyncio.run(run_load(srv.url, args.sessions, args.seconds, wards))
        elapsed = time.perf_counter() - t0
        mem.stop()
        log = srv.log_path.read_text(errors="replace") if srv.log_path.exists() else ""
    tracebacks = log.count("Traceback (most recent call last)")
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    for rec in results.values():
        for kind, s in rec["clicks"]:
            by_kind.setdefault(kind, []).append(s)
        errors.extend(rec["errors"])
    if tracebacks:
        errors.append(f"{tracebacks} traceback(s) in the server log")
    clicks = [s for k, v in by_kind.items() if k != "page_ready" for s in v]
    warm = mem.at(min(args.warmup, elapsed))
    end = mem.samples[-1][1] if mem.samples else None
    # growth over the second half of the run, from the median of each window (one sample
    # can catch a rerun's temporary allocation)
    half = elapsed / 2
    first = [v for s, v in mem.samples if args.warmup <= s <= half] or [v for s, v in mem.samples if s <= half]
    second = [v for s, v in mem.samples if s > half]
    out = {
        "sessions": args.sessions, "seconds": round(elapsed, 1),
        "clicks": len(clicks), "errors": len(errors), "error_examples": errors[:10],
        "per_kind": {k: {"n": len(v), "p50_s": round(pct(v, .5), 3), "p95_s": round(pct(v, .95), 3),
                         "max_s": round(max(v), 3)} for k, v in sorted(by_kind.items())},
        "all_clicks": {"p50_s": round(pct(clicks, .5), 3), "p95_s": round(pct(clicks, .95), 3)},
        "server_rss_mb": {"after_warmup": warm and round(warm), "end": end and round(end),
                          "peak": round(max(v for _, v in mem.samples)) if mem.samples else None,
                          "median_first_half": round(statistics.median(first)) if first else None,
                          "median_second_half": round(statistics.median(second)) if second else None},
    }
    print(f"{args.sessions} sessions for {elapsed:.0f} s: {len(clicks)} clicks, {len(errors)} errors (target 0)")
    for e in errors[:10]:
        print(f"  error: {e}")
    print(f"{'click':<12} {'n':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for k, v in out["per_kind"].items():
        print(f"{k:<12} {v['n']:>5} {v['p50_s']:>7.3f} {v['p95_s']:>7.3f} {v['max_s']:>7.3f}")
    print(f"{'all clicks':<12} {len(clicks):>5} {out['all_clicks']['p50_s']:>7.3f} {out['all_clicks']['p95_s']:>7.3f}")
    r = out["server_rss_mb"]
    print(f"server RSS MB: after warm-up {r['after_warmup']}, end {r['end']}, peak {r['peak']}; "
          f"median 1st half {r['median_first_half']} -> 2nd half {r['median_second_half']} "
          f"(target: flat after warm-up)")
    od = ROOT / "bench" / "out"
    od.mkdir(parents=True, exist_ok=True)
    (od / "bench_load.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
