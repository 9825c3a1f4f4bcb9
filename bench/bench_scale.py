"""Scale benchmark (issue #12): the app vs the naive baseline for the largest ICB and
for England, measured in Chromium in one run.

    python bench/bench_scale.py [--runs 2] [--only nenc|england]

For North East and North Cumbria ICB (E54000050, 1,889 LSOA 2021) and England
(E92000001, 33,755): the cold first map (a fresh server: footprint tables and static
files built), the warm first map (a new browser session), the repaint after a Measure
change (app: the instant restyle; naive: the re-sent GeoJSON), and the app server's
resident memory (RSS) with the footprint loaded. Same in-page clocks as bench_map.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_map import MEASURE_CYCLE, inpage_js, signature, wait_signature  # noqa: E402
from tests.e2e.harness import MAP_IFRAME, Server, launch_browser, wait_idle  # noqa: E402

CASES = {"nenc": ("E54000050", "North East and North Cumbria ICB", 1889),
         "england": ("E92000001", "England", 33755)}
TIMEOUT = 1500.0
REPAINT_TIMEOUT = 180.0
# issue #12 item 8 (seconds; RSS in MB with the footprint loaded)
TARGETS = {"nenc": {"first_s": 1.2, "repaint_s": 0.2}, "england": {"first_s": 2.5, "repaint_s": 0.3}, "rss_mb": 1024}


def _rss_mb(pid: int) -> float:
    try:
        txt = Path(f"/proc/{pid}/status").read_text()
        return int(txt.split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError, ValueError):
        return float("nan")


def _first(page, url: str, n: int, marks: dict | None = None, timeout: float = TIMEOUT) -> float:
    page.set_default_navigation_timeout(timeout * 1000)   # the naive England page takes minutes
    page.set_default_timeout(timeout * 1000)
    page.goto(url)
    nav0 = page.evaluate("performance.timeOrigin")
    _, _, end = wait_signature(page, n, after=nav0, timeout=timeout, poll_ms=250)
    if marks is not None:                 # where the time went (the map runtime's own clocks)
        marks.update(_marks(page, nav0))
    return (end - nav0) / 1000


def _marks(page, nav0: float) -> dict:
    """The map runtime's milestones (LSC.marks), seconds after navigation start, plus the
    geometry file's transfer (resource timing: size on the wire and decoded)."""
    try:
        fr = page.query_selector(MAP_IFRAME).content_frame()
        m = fr.evaluate("""() => { const L = (window.LSC || {}).marks || {};
          const r = performance.getEntriesByType('resource').filter(e => /\\/geo\\./.test(e.name))[0];
          return {marks: L, geo: r ? {start: performance.timeOrigin + r.startTime, end: performance.timeOrigin + r.responseEnd,
                  wire: r.transferSize, body: r.decodedBodySize} : null}; }""")
    except Exception as e:              # diagnostics only
        return {"error": str(e)[:200]}
    out = {k: round((v - nav0) / 1000, 3) for k, v in sorted(m["marks"].items(), key=lambda kv: kv[1])}
    if m.get("geo"):
        g = m["geo"]
        out["geo_request_s"] = round((g["start"] - nav0) / 1000, 3)
        out["geo_response_end_s"] = round((g["end"] - nav0) / 1000, 3)
        out["geo_wire_MB"], out["geo_body_MB"] = round(g["wire"] / 1e6, 2), round(g["body"] / 1e6, 2)
    return out


def _repaint(page, n: int, label: str, timeout: float = TIMEOUT) -> float:
    before = signature(page, n)[0]
    cb = page.get_by_role("combobox", name="Measure", exact=True)
    cb.click()
    opt = page.get_by_role("option", name=label, exact=True)
    opt.wait_for(timeout=timeout * 1000)
    opt.click()
    _, _, end = wait_signature(page, n, not_equal=before, after=page.evaluate("window.__lscDown || 0"),
                               timeout=timeout)
    down = page.evaluate("window.__lscDown || 0")
    return (end - down) / 1000


def bench_case(pw, case: str, runs: int, naive: bool, timeout: float = TIMEOUT) -> dict:
    code, name, n = CASES[case]
    if naive:
        srv = Server(".naive_scale_baseline.py", env={"NAIVE_ICB": code}, plain=True, timeout=300)
        query = ""
    else:
        tlog = ROOT / "artifacts" / f"bench_scale_timing_{case}.jsonl"
        tlog.parent.mkdir(exist_ok=True)
        tlog.unlink(missing_ok=True)
        srv = Server("app.py", env={"LSC_TIMING_LOG": str(tlog)}, timeout=300)
        query = f"/?icb={code}"
    out = {"cold_first_s": None, "first_s": [], "repaint_s": [], "rss_mb": None}
    with srv:
        browser = launch_browser(pw)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
        ctx.add_init_script(inpage_js(n))
        page = ctx.new_page()
        t0 = time.perf_counter()
        out["cold_marks"] = {}
        out["cold_first_s"] = _first(page, srv.url + query, n, out["cold_marks"], timeout=timeout)
        out["cold_wall_s"] = time.perf_counter() - t0
        ctx.close()
        for r in range(runs):
            ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
            ctx.add_init_script(inpage_js(n))
            page = ctx.new_page()
            out.setdefault("marks", [{}] * 0).append({})
            out["first_s"].append(_first(page, srv.url + query, n, out["marks"][-1], timeout=timeout))
            wait_idle(page, timeout=int(timeout * 1000))
            page.wait_for_timeout(500)
            for k in range(2):
                try:
                    out["repaint_s"].append(_repaint(page, n, MEASURE_CYCLE[(r * 2 + k) % len(MEASURE_CYCLE)],
                                                     timeout=min(timeout, REPAINT_TIMEOUT)))
                except TimeoutError:           # counted, not fatal: the other figures still print
                    out["repaint_timeouts"] = out.get("repaint_timeouts", 0) + 1
                wait_idle(page, timeout=int(timeout * 1000))
                page.wait_for_timeout(300)
            ctx.close()
        out["rss_mb"] = _rss_mb(srv.proc.pid)
        if not naive and tlog.exists():          # Python time of each rerun (script start to end)
            out["reruns"] = [json.loads(x) for x in tlog.read_text().splitlines() if x.strip()]
        browser.close()
    return out


def med(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--only", choices=list(CASES))
    ap.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    ap.add_argument("--no-app", action="store_true", help="only the naive baseline")
    ap.add_argument("--naive-timeout", type=float, default=300.0,
                    help="seconds the naive baseline may take for one first map (England's takes minutes); "
                         "past it the ratio is printed as a lower bound (default 300)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    naive_copy = ROOT / ".naive_scale_baseline.py"
    naive_copy.write_text((ROOT / "bench" / "naive_app.py").read_text())
    results = {}
    try:
        with sync_playwright() as pw:
            for case in ([args.only] if args.only else list(CASES)):
                results[case] = {"app": {} if args.no_app else bench_case(pw, case, args.runs, naive=False)}
                if not args.no_naive:
                    try:
                        results[case]["naive"] = bench_case(pw, case, 1, naive=True, timeout=args.naive_timeout)
                    except Exception as e:      # the naive map may not finish at England scale
                        results[case]["naive"] = {"error": f"{type(e).__name__}: {e}",
                                                  "timeout_s": args.naive_timeout}
    finally:
        naive_copy.unlink(missing_ok=True)
    print(f"{'':48s} {'app':>10s} {'naive':>10s} {'naive/app':>10s} {'target':>8s}")
    for case, r in results.items():
        code, name, n = CASES[case]
        a, nv = r["app"], r.get("naive", {})
        if not a:
            print(f"{name}: naive only: {json.dumps(nv)[:400]}")
            continue
        for key, label in (("cold_first_s", "first map, cold server (s)"), ("first_s", "first map (s)"),
                           ("repaint_s", "repaint after Measure change (s)")):
            av = a[key] if not isinstance(a[key], list) else med(a[key])
            bv = nv.get(key) if not isinstance(nv.get(key), list) else med(nv.get(key))
            ratio = f"{bv / av:10.1f}" if isinstance(bv, float) and av else f"{'n/a':>10s}"
            bvs = f"{bv:10.2f}" if isinstance(bv, float) else f"{'n/a':>10s}"
            if "timeout_s" in nv and key != "repaint_s" and av:       # naive did not finish: a bound
                bvs, ratio = f"{'>' + format(nv['timeout_s'], '.0f'):>10s}", f"{'>' + format(nv['timeout_s'] / av, '.1f'):>10s}"
            tgt = TARGETS[case].get(key)
            tgt = f"{'<= ' + format(tgt, 'g'):>8s}" if tgt else ""
            print(f"{name + ' (' + format(n, ',') + '): ' + label:48s} {av:10.2f} {bvs} {ratio} {tgt}")
        nrss = f"{nv['rss_mb']:10.0f}" if isinstance(nv.get("rss_mb"), float) else f"{'':10s}"
        print(f"{name + ': app server RSS (MB)':48s} {a['rss_mb']:10.0f} {nrss} {'':10s} {'< ' + str(TARGETS['rss_mb']):>8s}")
        if a.get("repaint_timeouts"):
            print(f"  app: {a['repaint_timeouts']} repaint(s) not seen within {REPAINT_TIMEOUT:.0f} s (left out)")
        if "error" in nv:
            print(f"  naive baseline did not finish: {nv['error'][:200]}")
    out = ROOT / "artifacts" / "bench_scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
