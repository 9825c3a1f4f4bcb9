"""Per-run stage timings, kept per session, and the $LSC_TIMING_LOG they are written to.

`with timed("name"):` adds the block's wall time to the current script run's stages;
`log_timing(t0, cpu0, scope)` (app.py at the end of a full run, layers/parts.py at the end
of a part-only run) appends one JSON line and starts the run's stages afresh:

    {"script_ms": ..., "script_cpu_ms": ..., "t": <unix time>, "scope": "app" | <part>,
     "stages": {"<name>": ms, ...}}

bench/bench_map.py, bench_indicators.py, bench_clicks.py and bench_scale.py read it.
Stages are kept by script run (session id and thread: layers/_st_private.run_key), so
two sessions rerunning at the same time never add to each other's stages; outside
Streamlit (scripts, tests) each thread has its own.
"""
from __future__ import annotations

import json
import os
import threading
import time

from layers import _st_private

_STAGES: dict[tuple, dict[str, float]] = {}
_LOCK = threading.Lock()
MAX_RUNS = 256                # runs that never logged (st.stop, a rerun exception) are dropped oldest first


def _stages(create: bool = True) -> dict[str, float] | None:
    key = _st_private.run_key()
    with _LOCK:
        d = _STAGES.get(key)
        if d is None and create:
            while len(_STAGES) >= MAX_RUNS:
                _STAGES.pop(next(iter(_STAGES)), None)
            d = _STAGES[key] = {}
        return d


def stages() -> dict[str, float]:
    """A copy of this run's stage times so far (ms by stage name)."""
    return dict(_stages(create=False) or {})


def take_stages() -> dict[str, float]:
    """This run's stage times; the run's stages start afresh."""
    key = _st_private.run_key()
    with _LOCK:
        return _STAGES.pop(key, None) or {}


class timed:
    """`with timed("name"):` adds the block's time to this run's stage timings."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.t = time.perf_counter()

    def __exit__(self, *exc):
        ms = (time.perf_counter() - self.t) * 1000
        d = _stages()
        d[self.name] = d.get(self.name, 0.0) + ms


def log_timing(t0: float, t0_cpu: float | None = None, scope: str = "app") -> None:
    """Append this rerun's Python time (wall, and CPU time of the script thread: what the
    script itself costs, whatever else competes for the machine) and per-stage wall
    times to $LSC_TIMING_LOG. `scope`: "app" for a whole run, else the part
    (layers/parts.py)."""
    path = os.environ.get("LSC_TIMING_LOG")
    st_ms = take_stages()
    if path:
        line = json.dumps({"script_ms": (time.perf_counter() - t0) * 1000,
                           "script_cpu_ms": None if t0_cpu is None else round((time.thread_time() - t0_cpu) * 1000, 3),
                           "t": time.time(), "scope": scope,
                           "stages": {k: round(v, 2) for k, v in st_ms.items()}}) + "\n"
        with _LOCK, open(path, "a", encoding="utf-8") as f:     # one whole line per run
            f.write(line)


def log_record(record: dict) -> None:
    """Append another kind of record (e.g. a layer's own time, layers/indicators.py) to
    $LSC_TIMING_LOG, when it is set."""
    path = os.environ.get("LSC_TIMING_LOG")
    if path:
        line = json.dumps(record) + "\n"
        with _LOCK, open(path, "a", encoding="utf-8") as f:
            f.write(line)
