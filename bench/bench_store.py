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


def _child(cmd: list[str], with_cpu: bool = False):
    """Wall seconds and peak RSS (MB) of a child process (+ CPU seconds, user + system)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, ru = __import__("os").wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if with_cpu:
        return wall, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime
    return wall, ru.ru_maxrss / 1024


LOAD_ENGLAND = """
import resource, sys
from geo.store import load_store
s = load_store()
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 2**20
base = rss()
s.lsoa21, s.wards24_england
after = rss()
s.lsoa, s.lsoa25, s.wards24, s.england19, s.priority_nhsei, s.icb
print(f"{base:.0f} {after:.0f} {rss():.0f}")
"""


def england_memory() -> str:
    r = subprocess.run([sys.executable, "-c", LOAD_ENGLAND], cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        return f"(could not load the England tables: {r.stderr.strip().splitlines()[-1]})"
    base, after, more = r.stdout.split()
    return (f"RSS {base} MB after imports, {after} MB with lsoa21 + wards24_england loaded "
            f"(target < 1024 MB), {more} MB with the LSC tables, england19, priority_nhsei and icb too")


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
        walls, rss, cpus = [], [], []
        for _ in range(3):
            w, r, c = _child([py, "-m", "geo", "build", "--store", str(Path(d) / "store")], with_cpu=True)
            walls.append(w)
            rss.append(r)
            cpus.append(c)
    load = __import__("os").getloadavg()[0]
    print(f"store build (LSC + England-wide tables), process wall: best {min(walls):.2f} s, "
          f"median {statistics.median(walls):.2f} s (target <= 60 s); CPU (user+sys) best {min(cpus):.2f} s; "
          f"peak RSS {max(rss):.0f} MB; load average {load:.1f} on {__import__('os').cpu_count()} CPUs")
    print("app-side memory: " + england_memory())

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
