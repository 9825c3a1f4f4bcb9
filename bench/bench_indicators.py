"""Indicator layer benchmark, in Chromium: repaint after switching indicator or
classification, and Python time per rerun, on the LSC LSOAs (1,049 areas).

    .venv/bin/python bench/bench_indicators.py [--rounds 2]

Starts `streamlit run serve.py` (app.py) with LSC_TIMING_LOG, switches the Indicators
layer on (IoD2019 LSOA indicators), then times, with in-page clocks, from the pointerdown
on an option to the map iframe's first repaint: `data-lsc-ind-instant` (restyled from the
instant file before the rerun) or `data-lsc-ind` (the rerun's round), whichever changes
first, each set one frame after drawing; Playwright's wall clock is printed too:
- switching indicator (cycling all IoD2019 indicators): round 1 = first time each
  is classified (cold caches), later rounds = warm;
- switching classification (quantiles -> equal intervals -> natural breaks -> ...).
Python time per rerun = whole app script time logged by app.py for those reruns, and
this layer's own share (its sidebar/feature_group/notes/legend, logged by the layer), as
wall time and as thread CPU time (robust to other processes competing for the CPU).
Placement (--placement): "separate" runs the server on its own CPU and Chromium on the
other(s), as when people use the app from their own machines; "shared" lets both use
every CPU of this (2-vCPU) machine, so the script's wall time also holds the time
Chromium had the CPU. Default: the full app both ways, the isolated layer separate.
Prints numbers; writes bench/out/bench_indicators.json. Not a test: no pass/fail.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import MAP_IFRAME, Server, choose, launch_browser, wait_idle  # noqa: E402

TARGETS = {"repaint_s": 0.2, "python_ms": 30.0}


# In-page clocks (epoch ms), as in bench_map.py: the page records the pointerdown on the
# option; the map frame records when data-lsc-ind (set by the painter in the animation
# frame after a rerun's round is drawn) or data-lsc-ind-instant (the same, after the
# instant restyle from the controls, before the rerun) last changed. Playwright's init scripts do not reach the
# component iframe, so the first poll installs that observer.
INPAGE_JS = """(() => { window.__lscDown = 0; document.addEventListener('pointerdown', () => {
  window.__lscDown = performance.timeOrigin + performance.now(); }, true); })();"""
ATTR_JS = """() => {
  if (window.__lscIndMut === undefined) {
    window.__lscIndMut = 0;
    // the FIRST change after the bench re-armed it (both the instant restyle and the
    // rerun's round change an attribute; a poll may only run after both)
    new MutationObserver(() => { if (!window.__lscIndMut) window.__lscIndMut = performance.timeOrigin + performance.now(); })
      .observe(document.body, {attributes: true, attributeFilter: ['data-lsc-ind', 'data-lsc-ind-instant']});
  }
  const b = document.body, ind = b.getAttribute('data-lsc-ind');
  return [ind && ind !== 'off' ? ind + '#' + (b.getAttribute('data-lsc-ind-instant') || '') : ind,
          performance.timeOrigin + performance.now(), window.__lscIndMut];
}"""
REARM_JS = "() => { window.__lscIndMut = 0; }"


def ind_attr(page, full: bool = False):
    el = page.query_selector(MAP_IFRAME)
    fr = el.content_frame() if el else None
    if fr is None:
        return None
    try:
        r = fr.evaluate(ATTR_JS)
        return r if full else r[0]
    except Exception:
        return None


def wait_change(page, before, timeout=60.0, after: float = 0.0):
    """(wall-clock time, in-page epoch ms of the repaint: the attribute's change when the
    observer saw it after `after`, else the poll's in-frame time)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        r = ind_attr(page, full=True)
        if r and r[0] and r[0] != "off" and r[0] != before:
            v, t_eval, t_mut = r
            return time.perf_counter(), (t_mut if t_mut and after < t_mut <= t_eval else t_eval)
        page.wait_for_timeout(2)
    raise TimeoutError("indicator layer did not repaint")


def switch(page, label, option, log: Path, out_t: list, out_py: list, out_layer: list, out_cpu: list,
           out_wall: list, out_pycpu: list):
    cb = page.get_by_role("combobox", name=label, exact=True)
    cb.scroll_into_view_if_needed()
    page.wait_for_timeout(150)
    n_log = len(log.read_text().splitlines()) if log.exists() else 0
    cb.click()
    opt = page.get_by_role("option", name=option, exact=True)
    opt.wait_for()
    before = ind_attr(page)
    map_frame_el = page.query_selector(MAP_IFRAME)
    map_frame_el.content_frame().evaluate(REARM_JS)
    t0 = time.perf_counter()
    opt.click()
    down = page.evaluate("window.__lscDown || 0")
    t1, end = wait_change(page, before, after=down)
    out_wall.append(t1 - t0)
    if not down or end <= down:
        raise RuntimeError(f"in-page clocks inconsistent (pointerdown {down}, map {end})")
    out_t.append((end - down) / 1000)
    wait_idle(page)
    page.wait_for_timeout(150)
    lines = log.read_text().splitlines()[n_log:] if log.exists() else []
    recs = [json.loads(x) for x in lines]
    out_py.extend(r["script_ms"] for r in recs if "script_ms" in r)
    out_pycpu.extend(r["script_cpu_ms"] for r in recs if r.get("script_cpu_ms") is not None)
    STAGES.extend(r["stages"] for r in recs if "stages" in r)   # not the layer's own records
    out_layer.extend(r["layer_ms"] for r in recs if "layer_ms" in r)
    out_cpu.extend(r["layer_cpu_ms"] for r in recs if "layer_cpu_ms" in r)


STAGES: list[dict] = []     # per-rerun stage wall times (layers/view.py timed())


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


ISOLATED_APP = """# generated by bench/bench_indicators.py: app.py with only the base layers + indicators
import layers
layers.REGISTRY[:] = [m for m in layers.REGISTRY if m in ("layers.deprivation", "layers.wards", "layers.indicators")]
exec(compile(open("app.py", encoding="utf-8").read(), "app.py", "exec"))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mode", choices=["both", "app", "isolated"], default="both",
                    help="app = the full app.py; isolated = app.py with only deprivation, wards and "
                         "indicator layers (this layer's cost without the others')")
    ap.add_argument("--placement", choices=["both", "separate", "shared"], default="both",
                    help="separate = the server on its own CPU, the browser on the other (as when people "
                         "use it from their own machines); shared = both on all CPUs of this machine")
    args = ap.parse_args([] if argv is None else argv)   # main() from run_all.py: defaults
    import os
    modes = ["app", "isolated"] if args.mode == "both" else [args.mode]
    placements = ["separate", "shared"] if args.placement == "both" else [args.placement]
    if len(os.sched_getaffinity(0)) < 2 or not shutil.which("taskset"):
        placements = ["shared"]
    runs = [(m, p) for m in modes for p in placements if m == "app" or p == placements[0]]
    out_all = {}
    for mode, placement in runs:
        script = "app.py"
        tmp = None
        if mode == "isolated":
            tmp = ROOT / f".bench_indicators_isolated_{os.getpid()}.py"
            tmp.write_text(ISOLATED_APP)
            script = tmp.name
        try:
            out_all[f"{mode}/{placement}"] = run_mode(script, mode, args.rounds, placement)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench_indicators.json").write_text(json.dumps(out_all, indent=1))
    return 0


def run_mode(script: str, mode: str, rounds: int, placement: str = "shared") -> dict:
    import os
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = None
    if placement == "separate":       # server on the last CPU; this process and Chromium on the rest
        server_cpus = str(cpus[-1])
        os.sched_setaffinity(0, set(cpus[:-1]))
    try:
        return _run_mode(script, mode, rounds, placement, server_cpus)
    finally:
        os.sched_setaffinity(0, set(cpus))


def _run_mode(script: str, mode: str, rounds: int, placement: str, server_cpus: str | None) -> dict:
    from playwright.sync_api import sync_playwright

    from geo import classify as C
    from geo import indicators as I
    from geo.store import load_store
    store = load_store()
    data = I.load_builtin("iod2019", store)
    labels = [data.meta[k]["label"] for k in data.indicators()]
    methods = [C.METHODS[m] for m in ("equal_interval", "natural_breaks", "quantiles")]
    log = Path(tempfile.mkstemp(prefix="timing_ind_", suffix=".jsonl")[1])
    res = {"indicator_cold_s": [], "indicator_warm_s": [], "class_cold_s": [], "class_warm_s": [],
           "py_indicator_cold_ms": [], "py_indicator_warm_ms": [], "py_class_cold_ms": [],
           "py_class_warm_ms": [], "layer_indicator_cold_ms": [], "layer_indicator_warm_ms": [],
           "layer_class_cold_ms": [], "layer_class_warm_ms": [], "cpu_indicator_cold_ms": [],
           "cpu_indicator_warm_ms": [], "cpu_class_cold_ms": [], "cpu_class_warm_ms": [],
           "wall_indicator_cold_s": [], "wall_indicator_warm_s": [], "wall_class_cold_s": [],
           "wall_class_warm_s": [], "pycpu_indicator_cold_ms": [], "pycpu_indicator_warm_ms": [],
           "pycpu_class_cold_ms": [], "pycpu_class_warm_ms": []}
    try:
        with Server(script, env={"LSC_TIMING_LOG": str(log)}, cpus=server_cpus) as srv, sync_playwright() as pw:
            browser = launch_browser(pw)
            bctx = browser.new_context(viewport={"width": 1500, "height": 1100})
            bctx.add_init_script(INPAGE_JS)
            page = bctx.new_page()
            page.goto(srv.url)
            wait_idle(page)
            el = page.get_by_text("Indicators (choropleth)", exact=True)
            el.click()
            wait_idle(page)
            wait_change(page, None)
            ds = I.builtin_labels()["iod2019"]
            cb = page.get_by_role("combobox", name="Indicator dataset", exact=True)
            cb.scroll_into_view_if_needed()
            choose(page, "Indicator dataset", ds)
            wait_idle(page)
            for r in range(rounds):
                cold = r == 0
                for lab in labels[1:] + labels[:1]:
                    switch(page, "Indicator", lab, log,
                           res["indicator_cold_s" if cold else "indicator_warm_s"],
                           res["py_indicator_cold_ms" if cold else "py_indicator_warm_ms"],
                           res["layer_indicator_cold_ms" if cold else "layer_indicator_warm_ms"],
                           res["cpu_indicator_cold_ms" if cold else "cpu_indicator_warm_ms"],
                           res["wall_indicator_cold_s" if cold else "wall_indicator_warm_s"],
                           res["pycpu_indicator_cold_ms" if cold else "pycpu_indicator_warm_ms"])
                for m in methods:
                    switch(page, "Classes", m, log, res["class_cold_s" if cold else "class_warm_s"],
                           res["py_class_cold_ms" if cold else "py_class_warm_ms"],
                           res["layer_class_cold_ms" if cold else "layer_class_warm_ms"],
                           res["cpu_class_cold_ms" if cold else "cpu_class_warm_ms"],
                           res["wall_class_cold_s" if cold else "wall_class_warm_s"],
                           res["pycpu_class_cold_ms" if cold else "pycpu_class_warm_ms"])
            browser.close()
    finally:
        log.unlink(missing_ok=True)
    where = ("server on its own CPU, browser on the other(s): as deployed, people's browsers do not "
             "share the server's CPU" if placement == "separate" else
             "server and browser share every CPU of this machine")
    print(f"\nIndicator layer benchmark [{mode}: {script}; {where}]: {len(store.lsoa)} LSC LSOAs, "
          f"{len(labels)} IoD2019 indicators, "
          f"{rounds} rounds (round 1 = first classification of each choice), Chromium headless")
    print(f"{'':44s} {'median':>9s} {'p90':>9s} {'n':>4s}  target")
    summary = {}
    for label, key, target in [
        ("repaint: switch indicator, first time (s)", "indicator_cold_s", TARGETS["repaint_s"]),
        ("repaint: switch indicator, warm (s)", "indicator_warm_s", TARGETS["repaint_s"]),
        ("repaint: switch classification, first (s)", "class_cold_s", TARGETS["repaint_s"]),
        ("repaint: switch classification, warm (s)", "class_warm_s", TARGETS["repaint_s"]),
        ("  Playwright wall clock: indicator, warm (s)", "wall_indicator_warm_s", None),
        ("  Playwright wall clock: class., warm (s)", "wall_class_warm_s", None),
        ("Python/rerun, CPU: indicator, first (ms)", "pycpu_indicator_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun, CPU: indicator, warm (ms)", "pycpu_indicator_warm_ms", TARGETS["python_ms"]),
        ("Python/rerun, CPU: classification, first", "pycpu_class_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun, CPU: classification, warm", "pycpu_class_warm_ms", TARGETS["python_ms"]),
        ("Python/rerun: indicator, first time (ms)", "py_indicator_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun: indicator, warm (ms)", "py_indicator_warm_ms", TARGETS["python_ms"]),
        ("Python/rerun: classification, first (ms)", "py_class_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun: classification, warm (ms)", "py_class_warm_ms", TARGETS["python_ms"]),
        ("  of which this layer: indicator, first (ms)", "layer_indicator_cold_ms", TARGETS["python_ms"]),
        ("  of which this layer: indicator, warm (ms)", "layer_indicator_warm_ms", TARGETS["python_ms"]),
        ("  of which this layer: class., first (ms)", "layer_class_cold_ms", TARGETS["python_ms"]),
        ("  of which this layer: class., warm (ms)", "layer_class_warm_ms", TARGETS["python_ms"]),
        ("  this layer, CPU: indicator, first (ms)", "cpu_indicator_cold_ms", TARGETS["python_ms"]),
        ("  this layer, CPU: indicator, warm (ms)", "cpu_indicator_warm_ms", TARGETS["python_ms"]),
        ("  this layer, CPU: class., first (ms)", "cpu_class_cold_ms", TARGETS["python_ms"]),
        ("  this layer, CPU: class., warm (ms)", "cpu_class_warm_ms", TARGETS["python_ms"]),
    ]:
        xs = res[key]
        m = med(xs)
        verdict = "" if target is None else (f"<= {target}: " + ("met" if m <= target else "MISSED")
                                             + " (median)")
        print(f"{label:44s} {m:9.3f} {p90(xs):9.3f} {len(xs):4d}  {verdict}")
        summary[key] = {"median": m, "p90": p90(xs), "n": len(xs), "target": target}
    if STAGES:
        keys = {k for st in STAGES for k in st}
        per = sorted(((med([st.get(k, 0.0) for st in STAGES]), k) for k in keys), reverse=True)
        print("app Python per rerun by stage (median wall ms): "
              + ", ".join(f"{k} {v:.1f}" for v, k in per[:25]))
        STAGES.clear()
    return {"summary": summary, "raw": res}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
