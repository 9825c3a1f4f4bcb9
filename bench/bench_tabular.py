"""Benchmarks for geo/tabular.py, the reader behind every upload. Prints numbers;
asserts nothing. All inputs are SYNTHETIC (built here, for timing only).

1. A 100,000-row x 8-column CSV (~6 MB): read time (the row limit is 100,000).
2. The same rows as ';'-separated with decimal commas.
3. A 20,000-row XLSX: read time (openpyxl read-only, streamed).
4. Refusals, which must cost seconds, not minutes: an XLSX whose one far-right cell makes
   the sheet 16,384 columns wide; a 1,000,000-row XLSX without a <dimension> tag; a
   CSV of 2,000,000 rows (stops at the limit).
"""
from __future__ import annotations

import io
import re
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from geo.tabular import TabularError, read_tabular  # noqa: E402


def _timed(label, fn):
    t0 = time.perf_counter()
    try:
        out = fn()
        what = f"{len(out.frame):,} rows"
    except TabularError as e:
        what = f"refused: {str(e)[:90]}"
    print(f"{label:<48} {time.perf_counter() - t0:7.2f} s  {what}")


def _csv(n, sep=",", dec="."):
    head = sep.join(["id", "name", "category", "postcode", "lat", "lon", "opened", "note"]) + "\n"
    row = sep.join(["S{i}", "Site {i}", "hospital", "PR2 9HT", f"53{dec}79", f"-2{dec}70", "2024-01-01", "x"]) + "\n"
    return (head + "".join(row.replace("{i}", str(i)) for i in range(n))).encode()


def _xlsx_rows(n):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("services")
    ws.append(["id", "name", "category", "postcode", "lat", "lon"])
    for i in range(n):
        ws.append([f"S{i}", f"Site {i}", "hospital", "PR2 9HT", 53.79, -2.70])
    b = io.BytesIO()
    wb.save(b)
    return b.getvalue()


def _rewrite(data, fn):
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for it in zin.infolist():
            d = zin.read(it.filename)
            if it.filename.startswith("xl/worksheets/sheet"):
                d = fn(d.decode()).encode()
            z.writestr(it, d)
    return out.getvalue()


def main():
    c = _csv(100_000)
    _timed(f"CSV 100,000 rows ({len(c) / 1e6:.1f} MB)", lambda: read_tabular(c, "b.csv"))
    e = _csv(100_000, ";", ",")
    _timed("CSV ';' decimal commas, 100,000 rows", lambda: read_tabular(e, "e.csv"))
    x = _xlsx_rows(20_000)
    _timed(f"XLSX 20,000 rows ({len(x) / 1e6:.1f} MB)", lambda: read_tabular(x, "x.xlsx"))
    wide = _rewrite(_xlsx_rows(10), lambda s: s.replace("</row></sheetData>",
                                                        '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    _timed("XLSX far-right cell (XFD)", lambda: read_tabular(wide, "w.xlsx"))

    def million(s):
        s = re.sub(r"<dimension[^>]*/>", "", s)
        body = "".join(f'<row r="{i}"><c r="A{i}" t="n"><v>{i}</v></c></row>' for i in range(20, 1_000_001))
        return s.replace("</sheetData>", body + "</sheetData>")
    m = _rewrite(_xlsx_rows(10), million)
    _timed(f"XLSX 1,000,000 rows, no dimension ({len(m) / 1e6:.1f} MB)", lambda: read_tabular(m, "m.xlsx"))
    big = b"id,name\n" + b"".join(b"%d,n\n" % i for i in range(2_000_000))
    _timed(f"CSV 2,000,000 rows ({len(big) / 1e6:.0f} MB)", lambda: read_tabular(big, "big.csv"))


if __name__ == "__main__":
    main()
