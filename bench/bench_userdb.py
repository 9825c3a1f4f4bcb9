"""User-data store (geo/userdb.py): save / current / list latency, and 8 processes saving
under one name at once, on SQLite and on a throwaway PostgreSQL cluster (whose start-up
time is printed too). Prints numbers; asserts only that nothing was lost.

    .venv/bin/python bench/bench_userdb.py [--saves 200] [--procs 8] [--per-proc 25]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from geo import userdb  # noqa: E402

PAYLOAD = b"id,name,category,postcode\n" + b"X-1,Site,hospital,PR2 9HT\n" * 2000     # ~50 KB


def _worker(url, i, per, barrier, out):
    d = userdb.UserDB(url)
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    for k in range(per):
        d.save("services", "contended.csv", PAYLOAD + f"{i}-{k}\n".encode(), created_by=f"p{i}")
    out.put(time.perf_counter() - t0)


def _bench(label: str, url: str, saves: int, procs: int, per: int) -> None:
    d = userdb.UserDB(url)
    t0 = time.perf_counter()
    for k in range(saves):
        d.save("services", f"file{k % 20}.csv", PAYLOAD + f"{k}\n".encode())
    t_save = (time.perf_counter() - t0) / saves
    t0 = time.perf_counter()
    for k in range(saves):
        d.current("services", f"file{k % 20}.csv")
    t_cur = (time.perf_counter() - t0) / saves
    t0 = time.perf_counter()
    for _ in range(50):
        d.list("services")
    t_list = (time.perf_counter() - t0) / 50
    t0 = time.perf_counter()
    d.save("services", "file0.csv", d.current("services", "file0.csv").content)
    t_same = time.perf_counter() - t0
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    ps = [ctx.Process(target=_worker, args=(url, i, per, barrier, out)) for i in range(procs)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    [out.get(timeout=600) for _ in ps]
    for p in ps:
        p.join()
    wall = time.perf_counter() - t0
    n = len(d.history("services", "contended.csv"))
    assert n == procs * per, f"{label}: {n} versions kept of {procs * per} saves"
    print(f"{label:10s} save {t_save * 1000:7.2f} ms   current {t_cur * 1000:6.2f} ms   "
          f"list(20) {t_list * 1000:6.2f} ms   identical save {t_same * 1000:6.2f} ms   "
          f"{procs}x{per} contended saves {wall:6.2f} s ({procs * per / wall:6.1f}/s, all {n} kept)")
    d.engine.dispose()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=200)
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--per-proc", type=int, default=25)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        _bench("sqlite", f"sqlite:///{tmp}/userdata.sqlite", a.saves, a.procs, a.per_proc)
    from pgcluster import START_SECONDS, cluster, fresh_database
    with cluster() as server:
        if START_SECONDS:
            print(f"PostgreSQL throwaway cluster started in {START_SECONDS[-1]:.2f} s (initdb + pg_ctl start)")
        _bench("postgresql", fresh_database(server), a.saves, a.procs, a.per_proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
