"""Indicator layer benchmark, in Chromium: repaint after switching indicator or
classification, and Python time per rerun, on the LSC LSOAs (1,049 areas).

    .venv/bin/python bench/bench_indicators.py [--rounds 2]

Starts `streamlit run app.py` with LSC_TIMING_LOG, switches the Indicators layer on
(IoD2019 LSOA indicators), then times, from the click on an option to the indicator
painter's `data-lsc-ind` attribute changing in the map iframe (painted + one frame):
- switching indicator (cycling all IoD2019 indicators): round 1 = first time each
  is classified (cold caches), later rounds = warm;
- switching classification (quantiles -> equal intervals -> natural breaks -> ...).
Python time per rerun = whole app script time logged by app.py for those reruns, and
this layer's own share (its sidebar/feature_group/notes/legend, logged by the layer).
Prints numbers; writes bench/out/bench_indicators.json. Not a test: no pass/fail.
"""
from __future__ import annotations

import argparse
import json
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


def ind_attr(page):
    el = page.query_selector(MAP_IFRAME)
    fr = el.content_frame() if el else None
    if fr is None:
        return None
    try:
        return fr.evaluate("() => document.body.getAttribute('data-lsc-ind')")
    except Exception:
        return None


def wait_change(page, before, timeout=60.0):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        v = ind_attr(page)
        if v and v != "off" and v != before:
            return time.perf_counter()
        page.wait_for_timeout(2)
    raise TimeoutError("indicator layer did not repaint")


def switch(page, label, option, log: Path, out_t: list, out_py: list, out_layer: list):
    cb = page.get_by_role("combobox", name=label, exact=True)
    cb.scroll_into_view_if_needed()
    page.wait_for_timeout(150)
    n_log = len(log.read_text().splitlines()) if log.exists() else 0
    cb.click()
    opt = page.get_by_role("option", name=option, exact=True)
    opt.wait_for()
    before = ind_attr(page)
    t0 = time.perf_counter()
    opt.click()
    t1 = wait_change(page, before)
    out_t.append(t1 - t0)
    wait_idle(page)
    page.wait_for_timeout(150)
    lines = log.read_text().splitlines()[n_log:] if log.exists() else []
    recs = [json.loads(x) for x in lines]
    out_py.extend(r["script_ms"] for r in recs if "script_ms" in r)
    out_layer.extend(r["layer_ms"] for r in recs if "layer_ms" in r)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
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
           "layer_class_cold_ms": [], "layer_class_warm_ms": []}
    try:
        with Server("app.py", env={"LSC_TIMING_LOG": str(log)}) as srv, sync_playwright() as pw:
            browser = launch_browser(pw)
            page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
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
            for r in range(args.rounds):
                cold = r == 0
                for lab in labels[1:] + labels[:1]:
                    switch(page, "Indicator", lab, log,
                           res["indicator_cold_s" if cold else "indicator_warm_s"],
                           res["py_indicator_cold_ms" if cold else "py_indicator_warm_ms"],
                           res["layer_indicator_cold_ms" if cold else "layer_indicator_warm_ms"])
                for m in methods:
                    switch(page, "Classes", m, log, res["class_cold_s" if cold else "class_warm_s"],
                           res["py_class_cold_ms" if cold else "py_class_warm_ms"],
                           res["layer_class_cold_ms" if cold else "layer_class_warm_ms"])
            browser.close()
    finally:
        log.unlink(missing_ok=True)
    print(f"\nIndicator layer benchmark: {len(store.lsoa)} LSC LSOAs, {len(labels)} IoD2019 indicators, "
          f"{args.rounds} rounds (round 1 = first classification of each choice), Chromium headless")
    print(f"{'':44s} {'median':>9s} {'p90':>9s} {'n':>4s}  target")
    summary = {}
    for label, key, target in [
        ("repaint: switch indicator, first time (s)", "indicator_cold_s", TARGETS["repaint_s"]),
        ("repaint: switch indicator, warm (s)", "indicator_warm_s", TARGETS["repaint_s"]),
        ("repaint: switch classification, first (s)", "class_cold_s", TARGETS["repaint_s"]),
        ("repaint: switch classification, warm (s)", "class_warm_s", TARGETS["repaint_s"]),
        ("Python/rerun: indicator, first time (ms)", "py_indicator_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun: indicator, warm (ms)", "py_indicator_warm_ms", TARGETS["python_ms"]),
        ("Python/rerun: classification, first (ms)", "py_class_cold_ms", TARGETS["python_ms"]),
        ("Python/rerun: classification, warm (ms)", "py_class_warm_ms", TARGETS["python_ms"]),
        ("  of which this layer: indicator, first (ms)", "layer_indicator_cold_ms", TARGETS["python_ms"]),
        ("  of which this layer: indicator, warm (ms)", "layer_indicator_warm_ms", TARGETS["python_ms"]),
        ("  of which this layer: class., first (ms)", "layer_class_cold_ms", TARGETS["python_ms"]),
        ("  of which this layer: class., warm (ms)", "layer_class_warm_ms", TARGETS["python_ms"]),
    ]:
        xs = res[key]
        m = med(xs)
        print(f"{label:44s} {m:9.3f} {p90(xs):9.3f} {len(xs):4d}  <= {target}: "
              f"{'met' if m <= target else 'MISSED'} (median)")
        summary[key] = {"median": m, "p90": p90(xs), "n": len(xs), "target": target}
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench_indicators.json").write_text(json.dumps({"summary": summary, "raw": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
