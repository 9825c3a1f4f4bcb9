"""`make bench`: every benchmark, one after another. Prints numbers; exit 0 unless a
benchmark crashes."""
from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCHES = ["bench_store", "bench_map", "bench_access", "bench_indicators", "bench_export", "bench_planner",
           "bench_load", "bench_clicks", "bench_scale"]


def main() -> int:
    failed = 0
    for name in BENCHES:
        if not (ROOT / "bench" / f"{name}.py").exists():
            continue
        print(f"\n=== {name} ===", flush=True)
        try:
            mod = importlib.import_module(name)
            import inspect
            if inspect.signature(mod.main).parameters:
                mod.main([])  # default options
            else:
                mod.main()
        except Exception:  # report and carry on with the other benchmarks
            traceback.print_exc()
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
