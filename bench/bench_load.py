"""Load test: many people using one app server at once (a workshop, a team).

    .venv/bin/python bench/bench_load.py                       # 20 sessions x 120 s (make bench)
    .venv/bin/python bench/bench_load.py --long                # 20 sessions x 300 s (issue #13)
    .venv/bin/python bench/bench_load.py --sessions 3 --seconds 60     # a quick check
    options: --browser (one real Chromium session in the mix), --warmup S, --timeout S

One `streamlit run serve.py` (as `make run` serves it). Each simulated person is a
websocket session speaking Streamlit's own protocol (bench/wsclient.py: BackMsg
rerun_script with widget states, ForwardMsg deltas, script_finished), so the clients
cost almost nothing and the figures are the server's. A session opens the page (the
first run, then the map's "painted" signal that brings the full page, as the browser's
map sends it), then until the time is up makes the everyday clicks in turn, with a
person's pause (0.3-1.2 s) between them: change the area, tick the wards layer off, on
again, change the deprivation measure, find a ward by name (its profile opens), close
the profile. Sessions start a little apart, as people do. With --browser, one more
person uses a headless Chromium (the same clicks through the page, each until the page
is idle again): a check that the page still paints under load; its times are listed
apart (they include Chromium's own rendering on the same CPUs).

A "click" is one widget change sent as a rerun (`rerun_script` carrying every widget
value the session holds, the changed one new), timed from sending it to the server's
`script_finished` for that run (a run cut short by st.rerun() is followed to the run
that replaces it). `page_ready` is the first visit: connect, first run, full-page run.

An "error" (target 0) is any of:
- an `exception` element in the run's deltas (Streamlit's red traceback box), or a
  compile error of the script;
- an st.error box in the run (the app's "a layer failed" messages);
- a timeout: no `script_finished` within --timeout (30 s) of sending the click (the
  session then waits up to 90 s more and notes when that run did finish);
- a disconnect: the server closed the websocket, or it could not be opened;
- a click that did not do its job: the control was not on the page, the ward search
  did not open that ward's profile (its heading), closing it did not close it;
- a traceback in the server log;
- with --browser: the browser session's own failures (a timeout, an exception box, a
  map runtime error).
After an error the session carries on (after a disconnect, or a run that never ended,
it reconnects and opens the page again, as a person would reload).

Server memory: RSS of the streamlit process every 5 s. Growth is the median of the last
minute minus the median of the first minute after warm-up (--warmup, default 60 s, or a
quarter of a short run), and the slope of a straight line fitted to all samples after
warm-up; "flat" when the growth is under 5 % of the post-warm-up level (and 25 MB).
The machine's load average is sampled with it (the CPUs are shared). All traffic goes to
127.0.0.1; every loop is bounded by --seconds. Writes bench/out/bench_load.json. Not a
test: no pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.e2e.harness import FIRST_PAINT_MARK, Server  # noqa: E402
from wsclient import RunTimeout, StreamlitSession  # noqa: E402

AREAS = ["Place (current four): Blackpool", "Place (legacy five): Fylde Coast",
         "Place (legacy five): Pennine Lancashire", "District: Burnley",
         "Whole ICB (Lancashire and South Cumbria)"]
MEASURES = ["Income", "Health Deprivation and Disability", "Index of Multiple Deprivation",
            "Employment", "Crime"]
KINDS = ("area", "wards_off", "wards_on", "measure", "ward_open", "ward_close")
MAP_COMPONENT = "streamlit_folium.st_folium"
NO_PROFILE = "Click a ward on the map (or find it by name) to open its profile."
FLAT_FRACTION, FLAT_MB = 0.05, 25.0
T_START = [0.0]          # when the load began (perf_counter), for the error notes


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """CPU time (user + system, all threads) the process has used."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class MemSampler(threading.Thread):
    """RSS of the server, its CPU time and the machine's 1-minute load average, every
    `every` s."""

    def __init__(self, pid: int, every: float = 5.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float, float]] = []     # (t, rss MB, load1)
        self.cpu: list[tuple[float, float]] = []                 # (t, server CPU s)
        self._halt = threading.Event()

    def run(self):
        t0 = time.perf_counter()
        while not self._halt.is_set():
            v, c, t = rss_mb(self.pid), cpu_s(self.pid), time.perf_counter() - t0
            if v is not None:
                self.samples.append((t, v, os.getloadavg()[0]))
            if c is not None:
                self.cpu.append((t, c))
            self._halt.wait(self.every)

    def stop(self):
        self._halt.set()
        self.join(5)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[max(0, min(len(xs) - 1, int(round(q * (len(xs) - 1)))))]


def memory_verdict(samples: list[tuple[float, float, float]], warmup: float, window: float = 60.0) -> dict:
    """Growth after warm-up: last window's median minus the first post-warm-up window's."""
    if not samples:
        return {"verdict": "no samples"}
    end = samples[-1][0]
    warmup = min(warmup, end / 4)
    window = max(5.0, min(window, (end - warmup) / 3))
    first = [v for t, v, _ in samples if warmup <= t <= warmup + window]
    last = [v for t, v, _ in samples if t >= end - window]
    post = [(t, v) for t, v, _ in samples if t >= warmup]
    slope = None
    if len(post) >= 3:
        tm, vm = statistics.fmean(t for t, _ in post), statistics.fmean(v for _, v in post)
        den = sum((t - tm) ** 2 for t, _ in post)
        slope = sum((t - tm) * (v - vm) for t, v in post) / den * 60 if den else None
    a, b = statistics.median(first), statistics.median(last)
    growth = b - a
    flat = growth <= max(FLAT_FRACTION * a, 0) and growth <= FLAT_MB
    return {"start": round(samples[0][1]), "after_warmup_median": round(a), "last_window_median": round(b),
            "growth_mb": round(growth, 1), "growth_pct": round(100 * growth / a, 1) if a else None,
            "slope_mb_per_min": None if slope is None else round(slope, 2),
            "peak": round(max(v for _, v, _ in samples)), "warmup_s": round(warmup), "window_s": round(window),
            "samples": len(samples), "verdict": "flat" if flat else "GROWING"}


def _run_errors(kind: str, run) -> list[str]:
    out = [f"{kind}: exception element: {e[:200]}" for e in run.exceptions]
    out += [f"{kind}: st.error: {a[:200]}" for a in run.alerts]
    return out


async def open_page(s: StreamlitSession) -> float:
    """Connect, first run, then the map's first-paint signal (brings the full page)."""
    t = time.perf_counter()
    await s.connect()
    run = await s.load()
    errs = _run_errors("open", run)
    if run.has_text(FIRST_PAINT_MARK) or not any(w.kind == "selectbox" for w in s.widgets.values()):
        run = await s.set_component(MAP_COMPONENT, {"last_clicked": None, "lsc_painted": "1"})
        errs += _run_errors("open", run)
    if errs:
        raise ClickFailed(errs)
    return time.perf_counter() - t


class ClickFailed(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


async def one_click(s: StreamlitSession, kind: str, cur: dict, rnd: random.Random, wards: list) -> float:
    def other(key, options):        # always a change: the same choice would not rerun
        cur[key] = rnd.choice([o for o in options if o != cur[key]])
        return cur[key]
    if kind == "area":
        run = await s.select("Area", other("area", AREAS))
    elif kind in ("wards_off", "wards_on"):
        run = await s.check("Wards (May 2024)", kind == "wards_on")
    elif kind == "measure":
        run = await s.select("Measure", other("measure", MEASURES))
    elif kind == "ward_open":
        name, label = wards[rnd.randrange(len(wards))]
        while label == cur.get("ward"):
            name, label = wards[rnd.randrange(len(wards))]
        cur["ward"] = label
        run = await s.select("Find a ward", label)
        if not run.has_text(f"<h3>{html.escape(name, quote=True)}</h3>"):
            raise ClickFailed(_run_errors(kind, run) + [f"{kind}: the profile of {name} did not open"])
    else:
        run = await s.press("Close ward profile")
        if not run.has_text(NO_PROFILE):
            raise ClickFailed(_run_errors(kind, run) + [f"{kind}: the profile did not close"])
    errs = _run_errors(kind, run)
    if errs:
        raise ClickFailed(errs)
    return run.seconds


async def ws_session(i: int, url: str, deadline: float, wards: list, rec: dict, start_delay: float,
                     timeout: float) -> None:
    await asyncio.sleep(start_delay)
    rnd = random.Random(i)
    s = StreamlitSession(url, timeout=timeout)
    fresh = True
    step = 0
    cur: dict = {}
    try:
        while time.perf_counter() < deadline:
            kind = "page_ready" if fresh else KINDS[step % len(KINDS)]
            try:
                if fresh:
                    await s.close()
                    rec["clicks"].append((kind, await open_page(s)))
                    cur = {"area": AREAS[-1], "measure": "Index of Multiple Deprivation"}
                    fresh, step = False, 0
                else:
                    rec["clicks"].append((kind, await one_click(s, kind, cur, rnd, wards)))
                    step += 1
            except ClickFailed as e:
                rec["errors"].extend(e.errors)
                step += 1
                if kind == "page_ready":
                    fresh = True
            except LookupError as e:
                rec["errors"].append(f"{kind}: control missing: {str(e)[:200]}")
                fresh = True
            except RunTimeout as e:     # how late was it? (a slow run, or one that never ends)
                try:
                    late = f"finished after {(await s.finish(e.t0, 90)).seconds:.1f} s"
                    step += 1
                except RunTimeout:
                    late, fresh = "not finished after 120 s", True
                except Exception as e2:     # disconnected meanwhile
                    late, fresh = f"then {type(e2).__name__}", True
                fresh = fresh or kind == "page_ready"
                rec["errors"].append(f"{kind}: timeout: no script_finished within {timeout:.0f} s ({late}; "
                                     f"sent {e.t0 - T_START[0]:.0f} s into the run)"
                                     + (f" [{cur.get('ward')}]" if kind == "ward_open" else ""))
            except (OSError, asyncio.TimeoutError) as e:
                rec["errors"].append(f"{kind}: cannot connect: {type(e).__name__}: {str(e)[:160]}")
                fresh = True
                await asyncio.sleep(1)
            except Exception as e:           # websockets.ConnectionClosed and kin
                rec["errors"].append(f"{kind}: disconnected: {type(e).__name__}: {str(e)[:160]}")
                fresh = True
            await asyncio.sleep(rnd.uniform(0.3, 1.2))     # a person reads the screen
    finally:
        await s.close()


async def browser_session(url: str, deadline: float, wards: list, rec: dict, start_delay: float) -> None:
    """One real Chromium making the same clicks through the page (bench_browser.py)."""
    from bench_browser import browser_clicks
    await asyncio.sleep(start_delay)
    await browser_clicks(url, deadline, wards, rec, AREAS, MEASURES)


async def run_load(url: str, sessions: int, seconds: float, wards: list, timeout: float,
                   browser: bool) -> dict:
    results = {i: {"clicks": [], "errors": []} for i in range(sessions)}
    T_START[0] = time.perf_counter()
    deadline = T_START[0] + seconds
    spread = min(20.0, seconds / 4)
    tasks = [ws_session(i, url, deadline, wards, results[i], spread * i / max(1, sessions), timeout)
             for i in range(sessions)]
    if browser:
        results["browser"] = {"clicks": [], "errors": []}
        tasks.append(browser_session(url, deadline, wards, results["browser"], spread / 2))
    await asyncio.gather(*tasks)
    return results


def timing_summary(path: Path, t_start: float) -> dict:
    """The server's own per-rerun script times (layers/view.py log_timing) during the load."""
    wall, cpu = [], []
    try:
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r.get("t", 0) >= t_start:
                wall.append(r["script_ms"])
                if r.get("script_cpu_ms") is not None:
                    cpu.append(r["script_cpu_ms"])
    except (OSError, ValueError):
        pass
    return {"reruns": len(wall), "script_wall_ms_p50": round(pct(wall, .5)), "script_wall_ms_p95": round(pct(wall, .95)),
            "script_cpu_ms_p50": round(pct(cpu, .5)), "script_cpu_ms_p95": round(pct(cpu, .95))} if wall else {}


def summarise(args, results: dict, elapsed: float, mem: MemSampler, log: str, timing: dict) -> dict:
    tracebacks = log.count("Traceback (most recent call last)")
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    for who, rec in results.items():
        prefix = "browser:" if who == "browser" else ""
        for kind, s in rec["clicks"]:
            by_kind.setdefault(prefix + kind, []).append(s)
        errors.extend(prefix + e for e in rec["errors"])
    if tracebacks:
        errors.append(f"{tracebacks} traceback(s) in the server log")
    clicks = [s for k, v in by_kind.items() if k in KINDS for s in v]
    loads = [x[2] for x in mem.samples]
    cpu_used = mem.cpu[-1][1] - mem.cpu[0][1] if len(mem.cpu) > 1 else None
    cpu_wall = mem.cpu[-1][0] - mem.cpu[0][0] if len(mem.cpu) > 1 else None
    return {
        "sessions": args.sessions, "browser_session": bool(args.browser), "seconds": round(elapsed, 1),
        "click_timeout_s": args.timeout,
        "clicks": len(clicks), "errors": len(errors), "error_examples": errors[:15],
        "per_kind": {k: {"n": len(v), "p50_s": round(pct(v, .5), 3), "p95_s": round(pct(v, .95), 3),
                         "max_s": round(max(v), 3)} for k, v in sorted(by_kind.items())},
        "all_clicks": {"n": len(clicks), "p50_s": round(pct(clicks, .5), 3), "p95_s": round(pct(clicks, .95), 3),
                       "max_s": round(max(clicks), 3) if clicks else None},
        "clicks_per_s": round(len(clicks) / elapsed, 2) if elapsed else None,
        "server_script": timing,
        "server_cpu": {"cpu_s": round(cpu_used, 1), "wall_s": round(cpu_wall, 1),
                       "cpus_busy": round(cpu_used / cpu_wall, 2),
                       "cpu_ms_per_click": round(1000 * cpu_used / len(clicks)) if clicks else None}
        if cpu_used is not None and cpu_wall else {},
        "server_rss_mb": memory_verdict(mem.samples, args.warmup),
        "load_average_1min": {"mean": round(statistics.fmean(loads), 2), "max": round(max(loads), 2)} if loads else {},
        "rss_series": [(round(t), round(v, 1)) for t, v, _ in mem.samples],
    }


def print_table(out: dict) -> None:
    print(f"{out['sessions']} websocket sessions{' + 1 browser' if out['browser_session'] else ''} for "
          f"{out['seconds']:.0f} s: {out['clicks']} clicks ({out['clicks_per_s']}/s), "
          f"{out['errors']} errors (target 0)")
    for e in out["error_examples"][:10]:
        print(f"  error: {e}")
    print(f"{'click':<20} {'n':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for k, v in out["per_kind"].items():
        print(f"{k:<20} {v['n']:>5} {v['p50_s']:>7.3f} {v['p95_s']:>7.3f} {v['max_s']:>7.3f}")
    a = out["all_clicks"]
    print(f"{'all clicks':<20} {a['n']:>5} {a['p50_s']:>7.3f} {a['p95_s']:>7.3f} {a['max_s'] or 0:>7.3f}")
    t = out["server_script"]
    if t:
        print(f"server script per rerun: wall p50 {t['script_wall_ms_p50']} ms / p95 {t['script_wall_ms_p95']} ms, "
              f"CPU p50 {t['script_cpu_ms_p50']} ms / p95 {t['script_cpu_ms_p95']} ms ({t['reruns']} reruns)")
    c = out["server_cpu"]
    if c:
        print(f"server CPU: {c['cpu_s']} s in {c['wall_s']} s ({c['cpus_busy']} CPUs busy; one Python process "
              f"runs Python on ~1 CPU at a time), {c['cpu_ms_per_click']} ms per click")
    r = out["server_rss_mb"]
    if "growth_mb" in r:
        print(f"server RSS MB: start {r['start']}, first {r['window_s']} s after {r['warmup_s']} s warm-up "
              f"{r['after_warmup_median']}, last {r['window_s']} s {r['last_window_median']}: growth "
              f"{r['growth_mb']:+.1f} MB ({r['growth_pct']:+.1f} %), slope {r['slope_mb_per_min']} MB/min, "
              f"peak {r['peak']} -> {r['verdict']} (target: flat after warm-up)")
    la = out["load_average_1min"]
    if la:
        print(f"machine load average (1 min) during the run: mean {la['mean']}, max {la['max']} (2 vCPUs, shared)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--long", action="store_true", help="the issue's full run: 300 s")
    ap.add_argument("--warmup", type=float, default=60, help="seconds before memory growth is measured")
    ap.add_argument("--timeout", type=float, default=30, help="a click slower than this is an error")
    ap.add_argument("--browser", action="store_true", help="one real Chromium session in the mix")
    args = ap.parse_args(argv)
    if args.long:
        args.seconds = 300
    if args.sessions < 1 or args.seconds <= 0 or args.timeout <= 0:
        ap.error("--sessions, --seconds and --timeout must be positive")
    from geo.store import load_store
    w = load_store().wards24
    wards = [(n, f"{n} ({d})") for n, d in zip(w["wd24nm"], w["lad19nm"])]
    timing_log = Path(tempfile.mkdtemp(prefix="lsc-load-")) / "timing.jsonl"
    with Server("app.py", env={"LSC_TIMING_LOG": str(timing_log)}) as srv:
        # one visit first so the first session does not pay the server's own start
        asyncio.run(run_load(srv.url, 1, 5, wards, max(args.timeout, 120), False))
        mem = MemSampler(srv.proc.pid)
        mem.start()
        t0, t_wall = time.perf_counter(), time.time()
        results = asyncio.run(run_load(srv.url, args.sessions, args.seconds, wards, args.timeout, args.browser))
        elapsed = time.perf_counter() - t0
        mem.stop()
        log = srv.log_path.read_text(errors="replace") if srv.log_path.exists() else ""
    out = summarise(args, results, elapsed, mem, log, timing_summary(timing_log, t_wall))
    print_table(out)
    od = ROOT / "bench" / "out"
    od.mkdir(parents=True, exist_ok=True)
    (od / "bench_load.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
