"""Everyday clicks, as multiples of Streamlit's floor, measured in Chromium in one run.

    .venv/bin/python bench/bench_clicks.py [--runs 5] [--sessions 3] [--layers all]

Serves bench/floor_app.py (one selectbox: the cheapest Streamlit rerun there is) and
app.py, each through serve.py (the app's own serving) with the same Streamlit, and drives
both with Playwright + Debian Chromium:

- floor: select another option -> idle; cold page load -> idle;
- app: change the area (to Blackpool and back) -> idle; tick the wards layer off (and on
  again) -> idle; change the deprivation measure (to Income and back) -> idle; find a
  ward by name -> its profile shown and idle; cold page load -> page ready (controls and
  tables) and first painted map.

"Idle", read by in-page clocks (epoch ms, comparable across frames; no Playwright
polling in the measured time), is the latest of:
  (a) the moment the page last turned idle: Streamlit's running indicator gone
      (stApp's data-test-script-state = notRunning), no element still a skeleton
      (loading its script chunk) and the app's first-paint caption ("Loading the
      controls…") gone; recorded by a MutationObserver each time that predicate turns
      from false to true;
  (b) the map iframe's last change to what it shows (data-lsc-applied / -styled /
      -painted attributes, by an observer inside the frame);
  (c) the page's last DOM change (elements added, removed or replaced: a rerun so quick
      that the running indicator never shows still ends here);
  (d) the last message from the server on the page's websocket;
A second end, "visible", is the same without the DOM changes that a browser never draws,
made for screen readers after fixed delays: inside a <canvas> element (st.dataframe's
grid, glide-data-grid, keeps an accessibility table there and rebuilds it 200 ms after a
data change: a debounced memo) and inside react-aria's visually hidden live region (a
selectbox announces "277 options available" and clears it on timers after the menu
closes). "Idle" includes those timers; "visible" is when what the person sees is final.

and it counts once the server has answered the click (a websocket message, and a run
ended since: each page's server appends a line to its timing log at the end of every
run, the app's parts included) and the page has then been idle, with no clock moving
and no run ending, for QUIET_MS (a rerun that starts another, e.g. a callback's part
rerun after the run that called it, is waited out; with several sessions a run of any
of them holds the quiet window open, which errs on the slow side). A
click is timed from its pointerdown. Page ready (cold) is (a)/(b) after navigation
start, in a new browser context (cold HTTP cache) against a warmed-up server; the
first painted map is the frame's first data-lsc-painted.

The same clicks are then made by `--sessions` browser contexts at once (a workshop:
one person clicks while the room's sessions do too), on both pages. Prints medians and
x floor (the floor measured in the same run, under the same concurrency); writes
bench/out/bench_clicks.json. Not a test: no pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, FIRST_PAINT_MARK, Server  # noqa: E402

QUIET_MS = 400
TIMEOUT_S = 180.0          # a sample that never settles is counted as a time-out, not timed
TARGETS = {"area": 3.0, "toggle": 3.0, "measure": 3.0, "ward": 4.0, "ready": 2.0}
MEASURES = ["Income", "Index of Multiple Deprivation"]
AREAS = ["District: Blackpool", "Whole ICB (Lancashire and South Cumbria)"]
WARDS = ["Bispham", "Talbot", "Claremont", "Skerton", "Anchorsholme", "Marsh Mill", "Larkholme"]
FLOOR_OPTIONS = ["two", "one"]
VIEWPORT = {"width": 1500, "height": 1000}

FRAME_OBSERVER_JS = """
  if (window.__ckMut === undefined) {
    window.__ckMut = 0; window.__ckPaint = 0;
    new MutationObserver((ms) => {
      const t = performance.timeOrigin + performance.now();
      for (const m of ms) {
        if (m.oldValue === m.target.getAttribute(m.attributeName)) continue;   // re-set to the same
        window.__ckMut = t;
        if (m.attributeName === 'data-lsc-painted' && !window.__ckPaint) window.__ckPaint = t;
      }
    }).observe(document.documentElement, {subtree: true, attributes: true, attributeOldValue: true,
      attributeFilter: ['data-lsc-applied', 'data-lsc-styled', 'data-lsc-painted']});
  }
"""
INPAGE_JS = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__ckDown = 0; window.__ckIdleAt = 0; window.__ckBusyAt = 0; window.__ckMainMut = 0; window.__ckWsAt = 0;
  window.__ckMainVis = 0;
  // never drawn: inside a <canvas> (fallback content: the data grid's accessibility table)
  // or react-aria's visually hidden live region (announcements for screen readers)
  const drawn = (n) => { const e = n.nodeType === 1 ? n : n.parentElement;
    return !(e && e.closest('canvas, [data-live-announcer]')); };
  // every message from the server (a run's deltas, its start and end)
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) { super(...a); this.addEventListener('message', () => { window.__ckWsAt = now(); }); }
  };
  document.addEventListener('pointerdown', () => { window.__ckDown = now(); }, true);
  const mark = %s;
  const idle = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const sb = document.querySelector("[data-testid='stSidebar']");
    if (sb && sb.textContent.indexOf(mark) >= 0) return false;
    return !document.querySelector("[data-testid='stSkeleton']");
  };
  let was = false;
  window.__ckIsIdle = () => idle();
  const frameJs = %s;
  const hook = (f) => {
    if (f.__ckHooked) return;
    f.__ckHooked = true;
    f.addEventListener('load', () => { try { f.contentWindow.eval(frameJs); } catch (e) {} });
  };
  new MutationObserver((ms) => {
    window.__ckMainMut = now();
    if (ms.some((m) => drawn(m.target))) window.__ckMainVis = window.__ckMainMut;
    const i = idle();
    if (i && !was) window.__ckIdleAt = now();
    if (!i && was) window.__ckBusyAt = now();
    was = i;
    document.querySelectorAll('iframe').forEach(hook);
  }).observe(document, {childList: true, subtree: true, attributes: true,
                        attributeFilter: ['data-test-script-state', 'data-testid']});
})();""" % (json.dumps(FIRST_PAINT_MARK), json.dumps(FRAME_OBSERVER_JS))

STATE_JS = """(h) => {
  const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
  let mut = 0, paint = 0;
  try { mut = f ? (f.contentWindow.__ckMut || 0) : 0; paint = f ? (f.contentWindow.__ckPaint || 0) : 0; } catch (e) {}
  return {idle: window.__ckIsIdle(), idleAt: window.__ckIdleAt, busyAt: window.__ckBusyAt,
          mainMut: window.__ckMainMut, mainVis: window.__ckMainVis, wsAt: window.__ckWsAt,
          shown: !h || [...document.querySelectorAll('h1, h2, h3')].some((e) => e.textContent.trim() === h),
          down: window.__ckDown, mut, paint, origin: performance.timeOrigin,
          t: performance.timeOrigin + performance.now()};
}"""


def log_lines(path: Path | None) -> int:
    try:
        return path.read_bytes().count(b"\n") if path else 0
    except OSError:
        return 0


async def settle(page, since: float, timeout: float = 120.0, heading: str | None = None,
                 runlog: Path | None = None, n0: int = 0) -> dict:
    """Wait until the page has been idle, with no clock moving, for QUIET_MS after
    `since` (epoch ms), showing `heading` if given, and (with `runlog`, the server's
    timing log: one line at the end of each run) until a run has ended since the click
    (more than `n0` lines) and none for QUIET_MS; return the state with `end` = the
    latest idle/map/DOM/websocket moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    n_seen, changed_at = log_lines(runlog), loop.time()
    while loop.time() < deadline:
        n = log_lines(runlog)
        if n != n_seen:
            n_seen, changed_at = n, loop.time()
        if runlog is not None and (n <= n0 or loop.time() - changed_at < QUIET_MS / 1000):
            await page.wait_for_timeout(50)
            continue
        s = await page.evaluate(STATE_JS, heading)
        end = max(x for x in (s["idleAt"], s["mainMut"], s["mut"], s["wsAt"], 0) if x > since or x == 0)
        if s["idle"] and s["shown"] and s["idleAt"] and s["wsAt"] > since and s["t"] - end >= QUIET_MS:
            s["end"] = end
            s["visible"] = max(x for x in (s["idleAt"], s["mainVis"], s["mut"], s["wsAt"], 0) if x > since or x == 0)
            return s
        await page.wait_for_timeout(50)
    raise TimeoutError("the page did not become idle")


async def cold_load(browser, url: str, runlog: Path | None = None) -> tuple:
    """(context, page, seconds to idle, seconds to first painted map or None)."""
    n0 = log_lines(runlog)
    ctx = await browser.new_context(viewport=VIEWPORT)
    await ctx.add_init_script(INPAGE_JS)
    page = await ctx.new_page()
    try:
        await page.goto(url, wait_until="commit", timeout=TIMEOUT_S * 1000)
        s = await settle(page, 0.0, timeout=TIMEOUT_S, runlog=runlog, n0=n0)
    except Exception:              # a time-out: counted, not fatal (the other samples still count)
        return ctx, page, None, None
    paint = (s["paint"] - s["origin"]) / 1000 if s["paint"] else None
    return ctx, page, (s["end"] - s["origin"]) / 1000, paint


async def pick(page, label: str, option: str | None, typed: str | None = None):
    """Open the selectbox `label` (typing `typed`) and return the option to click: the one
    named `option`, else the first offered."""
    cb = page.get_by_role("combobox", name=label, exact=True)
    await cb.click()
    if typed is not None:
        await cb.fill(typed)
    opt = (page.get_by_role("option", name=option, exact=True) if option
           else page.get_by_role("option").first)
    await opt.wait_for()
    return opt


class PyLog:
    """The app's timing log ($LSC_TIMING_LOG, one line per script or fragment run): what
    each click cost in Python (runs, CPU ms of the script thread), read when one session
    clicks alone (with several, the lines of the sessions interleave)."""

    def __init__(self, path: Path | None):
        self.path, self.pos = path, 0

    def take(self) -> list[dict]:
        if self.path is None or not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as f:
            f.seek(self.pos)
            text = f.read()
            self.pos = f.tell()
        return [json.loads(x) for x in text.splitlines() if x.strip()]


async def timed_click(page, target, barrier=None, out: dict | None = None, key: str = "",
                      log: PyLog | None = None, heading: str | None = None, runlog: Path | None = None) -> float:
    """Seconds from the pointerdown on `target` to idle (also appended to out[key], and
    the Python cost to out["py:" + key] when a log is given)."""
    if barrier is not None:
        await barrier.wait()
    if log is not None:
        log.take()
    n0 = log_lines(runlog)
    await target.click()
    s0 = await page.evaluate(STATE_JS, None)
    if not s0["down"]:
        raise RuntimeError("no pointerdown recorded")
    try:
        s = await settle(page, s0["down"], timeout=TIMEOUT_S, heading=heading, runlog=runlog, n0=n0)
    except TimeoutError:
        if out is not None:
            out.setdefault("timeouts", []).append(key)
        return float("nan")
    dt = (s["end"] - s0["down"]) / 1000
    if out is not None:
        out.setdefault(key, []).append(dt)
        out.setdefault("vis:" + key, []).append((s["visible"] - s0["down"]) / 1000)
        if log is not None:
            lines = log.take()
            out.setdefault("py:" + key, []).append(
                {"runs": [x.get("scope", "app") for x in lines],
                 "cpu_ms": round(sum(x.get("script_cpu_ms") or 0 for x in lines), 1)})
    return dt


async def floor_session(page, runs: int, barrier, out: dict, runlog: Path | None = None):
    for r in range(runs):
        opt = await pick(page, "Floor", FLOOR_OPTIONS[r % 2])
        await timed_click(page, opt, barrier, out, "floor_select", runlog=runlog)


async def app_session(page, runs: int, barrier, out: dict, wards_on_label: str, log: PyLog | None = None,
                      runlog: Path | None = None):
    for r in range(runs):
        for area in AREAS:                                   # to Blackpool and back
            opt = await pick(page, "Area", area, typed=area.split(": ")[-1].split(" (")[0])
            await timed_click(page, opt, barrier, out, "area", log, runlog=runlog)
        box = page.locator("[data-testid='stSidebar']").get_by_text(wards_on_label, exact=True)
        for _ in range(2):                                    # wards off, then on again
            await box.wait_for()
            await timed_click(page, box, barrier, out, "toggle", log, runlog=runlog)
        for m in MEASURES:                                    # a restyle: Income and back
            opt = await pick(page, "Measure", m)
            await timed_click(page, opt, barrier, out, "measure", log, runlog=runlog)
        opt = await pick(page, "Find a ward", None, typed=WARDS[r % len(WARDS)])
        name = (await opt.inner_text()).rsplit(" (", 1)[0]
        await timed_click(page, opt, barrier, out, "ward", log, heading=name, runlog=runlog)   # until its profile shows
        close = page.get_by_role("button", name="Close ward profile")
        n0 = log_lines(runlog)
        await close.click()
        await settle(page, (await page.evaluate(STATE_JS, None))["down"], runlog=runlog, n0=n0)


async def measure(browser, url: str, kind: str, runs: int, sessions: int, log: Path | None = None) -> dict:
    """Cold loads then clicks by `sessions` contexts at once; lists of seconds per key."""
    out: dict[str, list] = {}
    loaded = await asyncio.gather(*(cold_load(browser, url, log) for _ in range(sessions)))
    for ctx, page, ready, paint in loaded:
        if ready is None:
            out.setdefault("timeouts", []).append("ready")
            continue
        out.setdefault("ready", []).append(ready)
        if paint is not None:
            out.setdefault("first_map", []).append(paint)
    barrier = asyncio.Barrier(sessions) if sessions > 1 else None
    per = [dict() for _ in loaded]
    if kind == "floor":
        await asyncio.gather(*(floor_session(p, runs, barrier, o, log) for (_, p, _, _), o in zip(loaded, per)))
    else:
        plog = PyLog(log) if sessions == 1 and log is not None else None
        await asyncio.gather(*(app_session(p, runs, barrier, o, "Wards (May 2024)", plog, log)
                               for (_, p, _, _), o in zip(loaded, per)))
    for o in per:
        for k, v in o.items():
            out.setdefault(k, []).extend(v)
    for ctx, *_ in loaded:
        await ctx.close()
    return out


async def bench(args) -> dict:
    from playwright.async_api import async_playwright
    log = Path(tempfile.mkstemp(prefix="clicks_timing_", suffix=".jsonl")[1])
    flog = Path(tempfile.mkstemp(prefix="clicks_floor_", suffix=".jsonl")[1])
    env = {"LSC_TIMING_LOG": str(log)}
    if args.layers != "all":
        env["LSC_LAYERS"] = args.layers
    res: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        with Server("bench/floor_app.py", env={"LSC_TIMING_LOG": str(flog)}) as floor, \
                Server("app.py", env=env) as app:
            for url, rl in ((floor.url, flog), (app.url, log)):   # warm both servers (store, caches, static files)
                ctx, *_ = await cold_load(browser, url, rl)
                await ctx.close()
            for n in sorted({1, args.sessions}):
                print(f"bench_clicks: {n} session(s) at once…", file=sys.stderr, flush=True)
                res[n] = {"floor": await measure(browser, floor.url, "floor", args.runs * 2, n, flog),
                          "app": await measure(browser, app.url, "app", args.runs, n, log)}
        await browser.close()
    log.unlink(missing_ok=True)
    flog.unlink(missing_ok=True)
    return res


ROWS = [("change the area (Blackpool and back) -> idle", "area", "floor_select", "area"),
        ("tick the wards layer off/on -> idle", "toggle", "floor_select", "toggle"),
        ("change the measure (Income and back) -> idle", "measure", "floor_select", "measure"),
        ("find a ward by name -> profile shown, idle", "ward", "floor_select", "ward"),
        ("page ready, cold (controls and tables)", "ready", "ready", "ready"),
        ("first painted map, cold", "first_map", None, None)]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def report(res: dict) -> dict:
    summary = {}
    for n, r in res.items():
        f, a = r["floor"], r["app"]
        print(f"\n{n} session(s) at once: floor select -> idle {med(f['floor_select']):.3f} s "
              f"(visible {med(f.get('vis:floor_select', [])):.3f} s), "
              f"floor cold load {med(f['ready']):.3f} s (medians of {len(f['floor_select'])} / {len(f['ready'])})")
        print(f"{'click':48s} {'median s':>9s} {'n':>4s} {'x floor':>8s}  {'target':18s} "
              f"{'visible s':>9s} {'x floor':>8s}")
        for label, key, fkey, tkey in ROWS:
            v = med(a.get(key, []))
            ratio = v / med(f[fkey]) if fkey else float("nan")
            tgt = TARGETS.get(tkey) if tkey else None
            verdict = "" if tgt is None else f"<= {tgt:g}x: {'met' if ratio <= tgt else 'MISSED'}"
            vis = a.get("vis:" + key)
            fvis = f.get("vis:" + fkey) if fkey else None
            vcol = f"{med(vis):9.3f} {med(vis) / med(fvis):7.1f}x" if vis and fvis else ""
            print(f"{label:48s} {v:9.3f} {len(a.get(key, [])):4d} {ratio:7.1f}x  {verdict:18s} {vcol}")
            summary[f"{n}:{key}"] = {"s": v, "x_floor": ratio,
                                     "visible_s": med(vis) if vis else None}
        if a.get("timeouts") or f.get("timeouts"):
            print(f"time-outs (> {TIMEOUT_S:g} s, not in the medians): app {a.get('timeouts', [])}, "
                  f"floor {f.get('timeouts', [])}")
        py = [(k, a[f"py:{k}"]) for _, k, _, _ in ROWS if a.get(f"py:{k}")]
        if py:
            print("Python per click (timing log; median CPU ms of the script thread, runs): " + "; ".join(
                f"{k} {med([x['cpu_ms'] for x in v]):.0f} ms, "
                f"{'+'.join(sorted(set('/'.join(x['runs']) for x in v)))}" for k, v in py))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="rounds of clicks per session")
    ap.add_argument("--sessions", type=int, default=3, help="browser contexts clicking at once")
    ap.add_argument("--layers", default="all", help="layer keys app.py loads (LSC_LAYERS); 'all' = every one")
    ap.add_argument("--raw", action="store_true", help="also print every sample")
    args = ap.parse_args(argv)
    res = asyncio.run(bench(args))
    if args.raw:
        print(json.dumps({n: {k: v for k, v in r["app"].items() if not k.startswith("py:")} for n, r in res.items()}))
    print(f"\nClick benchmark (Chromium headless; idle = running indicator gone and map iframe settled, "
          f"{QUIET_MS} ms quiet); app layers: {args.layers}")
    summary = report(res)
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench_clicks.json").write_text(json.dumps({"summary": summary, "raw": {str(k): v for k, v in res.items()}},
                                                         indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
