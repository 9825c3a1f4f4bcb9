"""Store build and report timings, with peak memory, against naive baselines.

Prints numbers; never fails on a threshold (the machine is shared and noisy)."""
from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _child(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, ru = __import__("os").wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_maxrss / 1024


def _best(fn, n=5):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


def naive_district_scores(england):
    """Baseline: a plain Python loop over every LSOA row, as a first script would do."""
    acc = {}
    for row in england[["lad19cd", "imd_score", "imd_decile", "pop2015"]].itertuples(index=False):
        a = acc.setdefault(row.lad19cd, [0.0, 0.0, 0.0, 0])
        a[0] += row.imd_score * row.pop2015
        a[1] += row.pop2015
        a[2] += row.pop2015 if row.imd_decile <= 2 else 0
        a[3] += 1
    return {k: (v[0] / v[1], 100 * v[2] / v[1]) for k, v in acc.items()}


def main() -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        walls, rss = [], []
        for _ in range(3):
            w, r = _child([py, "-m", "geo", "build", "--store", str(Path(d) / "store")])
            walls.append(w)
            rss.append(r)
    print(f"store build (LSC + England IoD2019 table), process wall: best {min(walls):.2f} s, "
          f"median {statistics.median(walls):.2f} s (target <= 30 s); peak RSS {max(rss):.0f} MB")

    w, r = _child([py, "-m", "geo", "report", "--scope", "england", "--by", "district", "--format", "csv"])
    print(f"`geo report --scope england --by district` whole process: {w:.2f} s, peak RSS {r:.0f} MB")
    w, r = _child([py, "-m", "geo", "report", "--by", "ward", "--format", "csv"])
    print(f"`geo report --by ward` whole process: {w:.2f} s, peak RSS {r:.0f} MB")

    from geo.report import build_table
    from geo.store import load_store
    s = load_store()
    s.england19, s.lsoa  # load once (the app caches these)
    b, m = _best(lambda: build_table(s, "district", scope="england"))
    print(f"report table, England 317 districts, all 8 measures + extent + local concentration, store loaded: "
          f"best {b * 1000:.0f} ms (target <= 1 s)")
    from geo.deprivation import summarise
    b, m = _best(lambda: summarise(s.england19, "lad19cd", measures=("imd",)))
    nb, nm = _best(lambda: naive_district_scores(s.england19), n=3)
    print(f"IMD score + Core20 for 317 districts: vectorised {b * 1000:.1f} ms (also computes extent, local "
          f"concentration, average rank) vs naive Python loop {nb * 1000:.1f} ms -> {nb / b:.1f}x")
    b, m = _best(lambda: build_table(s, "ward"))
    print(f"report table, 277 LSC wards, all measures: best {b * 1000:.0f} ms, median {m * 1000:.0f} ms")


if __name__ == "__main__":
    main()
