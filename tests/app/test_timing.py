"""layers/timing.py: stage timings are kept per session (per script run), so two sessions
rerunning at the same time never add to each other's stages, and $LSC_TIMING_LOG keeps
the format the benchmarks read."""
from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

from layers import _st_private, timing, view


def _two_sessions(monkeypatch, log, *, same_thread_ids: bool) -> dict:
    """Sessions "A" and "B" rerun at once, on threads of their own: A times a stage, B then
    times and logs its whole run, A times another stage and logs. With one dict for every
    session B's line would hold A's first stage and A's line would lose it."""
    monkeypatch.setenv("LSC_TIMING_LOG", str(log))
    local = threading.local()
    # a fake run context per thread, as Streamlit's script threads have (session_id)
    monkeypatch.setattr(_st_private, "_run_ctx", lambda: getattr(local, "ctx", None))
    if same_thread_ids:            # the worst case: only the session id tells the runs apart
        monkeypatch.setattr(_st_private, "threading", SimpleNamespace(get_ident=lambda: 1))
    a_timed, b_logged = threading.Event(), threading.Event()

    def session_a():
        local.ctx = SimpleNamespace(session_id="A", fragment_ids_this_run=None)
        t0, c0 = time.perf_counter(), time.thread_time()
        with view.timed("stage_A"):
            time.sleep(0.01)
        a_timed.set()
        b_logged.wait(5)
        with view.timed("shared"):
            time.sleep(0.03)
        view.log_timing(t0, c0, scope="app_A")

    def session_b():
        local.ctx = SimpleNamespace(session_id="B", fragment_ids_this_run=None)
        a_timed.wait(5)
        t0, c0 = time.perf_counter(), time.thread_time()
        with timing.timed("shared"):
            time.sleep(0.005)
        with timing.timed("stage_B"):
            pass
        view.log_timing(t0, c0, scope="app_B")
        b_logged.set()

    threads = [threading.Thread(target=session_a), threading.Thread(target=session_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return {r["scope"]: r for r in map(json.loads, log.read_text().splitlines())}


def test_two_concurrent_sessions_keep_their_own_stages(monkeypatch, tmp_path):
    for same in (False, True):
        with monkeypatch.context() as m:
            recs = _two_sessions(m, tmp_path / f"timing_{same}.jsonl", same_thread_ids=same)
        assert set(recs) == {"app_A", "app_B"}
        for r in recs.values():
            assert set(r) == {"script_ms", "script_cpu_ms", "t", "scope", "stages"}      # the benchmarks' format
        a, b = recs["app_A"]["stages"], recs["app_B"]["stages"]
        assert set(a) == {"stage_A", "shared"} and set(b) == {"shared", "stage_B"}
        assert a["shared"] >= 25 and b["shared"] < 25 and a["stage_A"] >= 8


def test_a_run_starts_afresh_after_it_logged(monkeypatch, tmp_path):
    log = tmp_path / "t.jsonl"
    monkeypatch.setenv("LSC_TIMING_LOG", str(log))
    with timing.timed("x"):
        pass
    assert set(timing.stages()) == {"x"}
    timing.log_timing(time.perf_counter(), None, scope="map")
    assert timing.stages() == {}
    timing.log_timing(time.perf_counter(), None)
    first, second = [json.loads(x) for x in log.read_text().splitlines()]
    assert first["scope"] == "map" and set(first["stages"]) == {"x"} and first["script_cpu_ms"] is None
    assert second["scope"] == "app" and second["stages"] == {}


def test_runs_that_never_log_do_not_pile_up(monkeypatch):
    keys = iter(range(10_000))
    monkeypatch.setattr(_st_private, "run_key", lambda: ("s", next(keys)))
    for _ in range(timing.MAX_RUNS * 3):
        with timing.timed("x"):
            pass
    assert len(timing._STAGES) <= timing.MAX_RUNS
