"""One reader for every tabular upload (services, venues, indicators, travel times).

    table = read_tabular(data, "my file.csv", limits=Limits(max_rows=50_000))
    table.frame        # DataFrame of str, the file's own (stripped) column names
    table.rownums      # spreadsheet row of each frame row (header = its own row number)
    table.problems     # [Problem(row, field, reason)]: rows that could not be read
    table.notes        # what was assumed: encoding, delimiter, decimal comma, sheet

Whole-file problems raise `TabularError` (a one-line message naming the user's file,
never a server path). Work is bounded while reading, not after: bytes are checked first,
XLSX archives by their unpacked size and the sheet's declared dimensions, rows and cells
are counted as they are read and reading stops at the first limit.

Rules every importer gets from here:
- encoding: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252 (said in a note);
  binary content is refused;
- delimiter: ',', ';', TAB or '|' sniffed from the first lines; a ';' file reads
  decimal commas ('1,5' -> 1.5, '1.234,5' -> 1234.5) — `parse_number(raw, table.decimal)`;
- an unterminated quote is a problem on the row where it starts; the rows after it are
  read normally (not swallowed into one field);
- a row with more fields than the header is a problem (an unquoted delimiter in a value);
- duplicate column names are refused (they would silently shadow each other);
- a header with no data rows is refused ("no data rows under the header");
- column lists in messages are shortened (`describe_columns`), never echoed in full.

Cells are strings: XLSX numbers become their shortest text ("53.75", "12"), dates ISO
("2025-01-31"), times "HH:MM", blanks "".

Names in messages, numbers, dates and decoding (and TabularError) are in
geo.tabular_text, re-exported here; this module reads the rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Callable, Iterable

import pandas as pd

# Names, numbers, dates and decoding live beside this module (re-exported: `geo.tabular.X` keeps working):
from geo.tabular_text import (DELIMITERS, TabularError, decode_text, describe_columns,  # noqa: F401
                              display_name, parse_date, parse_number, short, sniff_delimiter)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20_000_000        # the upload itself
    max_rows: int = 100_000            # data rows
    max_cols: int = 200                # columns of the header / sheet
    max_cells: int = 4_000_000         # rows x columns actually read
    max_unpacked: int = 200_000_000    # XLSX: bytes once unzipped (zip bombs)
    max_cell_chars: int = 10_000       # one cell


@dataclass
class Problem:
    row: int | None
    field: str
    reason: str


@dataclass
class Table:
    frame: pd.DataFrame
    rownums: list[int]
    file: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str = "csv"                  # csv | xlsx
    sheet: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    header_row: int = 1

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


# ----------------------------------------------------------------------------- header

def _clean_header(cells: list, name: str, limits: Limits) -> list[str]:
    cols = [short(c, 200) for c in cells]
    while cols and not cols[-1]:
        cols.pop()
    if len(cols) > limits.max_cols:
        raise TabularError(f"{name}: the header has {len(cols):,} columns, above the {limits.max_cols} column limit")
    out = [c if c else f"unnamed_{i + 1}" for i, c in enumerate(cols)]
    seen: dict[str, int] = {}
    for i, c in enumerate(out):
        k = c.lower()
        if k in seen:
            raise TabularError(f"{name}: duplicate column name {short(c, 30)!r} (columns {seen[k] + 1} and {i + 1}); "
                               f"rename one so it is clear which to read")
        seen[k] = i
    return out


def _blank(row) -> bool:
    return not any(str(c).strip() for c in row if c is not None)


def _header_line(records, header_test, scan: int = 20) -> int | None:
    """Row number of the first non-blank row (of the first `scan`) that header_test
    accepts; None (= the first non-blank row) when there is no test or none passes."""
    if header_test is None:
        return None
    seen = 0
    for ln, rec in records:
        if _blank(rec):
            continue
        if header_test([str(c).strip() for c in rec]):
            return ln
        seen += 1
        if seen >= scan:
            break
    return None


# ----------------------------------------------------------------------------- CSV

class _Lines:
    """Physical lines fed to csv.reader, with the index of the next one (so a record
    that swallowed lines through a stray quote can be re-read from the line after its
    start)."""

    def __init__(self, lines: list[str]):
        self.lines, self.i = lines, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.i >= len(self.lines):
            raise StopIteration
        self.i += 1
        return self.lines[self.i - 1]


def _csv_records(text: str, delim: str):
    """Yield (line number, fields, problem) for each record; a record spanning several
    lines whose field count is off, or an unclosed quote at the end of the file, is a
    problem on its first line and reading resumes on the next line."""
    lines = io.StringIO(text, newline="").readlines()
    src = _Lines(lines)
    width = None
    while src.i < len(lines):
        start = src.i
        reader = csv.reader(src, delimiter=delim, strict=True)
        try:
            for rec in reader:
                end = src.i
                multi = end - start > 1
                swallowed = multi and width is not None and (len(rec) != width or any(
                    ln.count(delim) >= max(1, width - 1) for ln in lines[start + 1:end]))
                if swallowed and '"' in lines[start]:
                    yield start + 1, None, ("unterminated or stray quote: this row runs into the "
                                            f"next {end - start - 1} line(s); close the quote")
                    src.i = start + 1
                    break
                if width is None and not _blank(rec):
                    width = len(rec)
                yield start + 1, rec, None
                start = end
            else:
                return
        except csv.Error as e:
            msg = str(e)
            if "unexpected end of data" in msg or "EOF" in msg:
                msg = "unterminated quote: the quoted value is never closed"
            elif "field larger than field limit" in msg:
                msg = "a value is too long"
            yield start + 1, None, msg
            src.i = start + 1


def _read_csv(data: bytes, name: str, limits: Limits, header_test) -> Table:
    text, notes = decode_text(data, name)
    if not text.strip():
        raise TabularError(f"{name}: the file is empty")
    delim = sniff_delimiter(text)
    decimal = "," if delim == ";" else "."
    if delim != ",":
        notes.append(f"delimiter {'TAB' if delim == chr(9) else repr(delim)}"
                     + ("; decimal commas read as decimal points" if decimal == "," else ""))
    header_at = _header_line(((ln, rec) for ln, rec, p in _csv_records(text, delim) if p is None), header_test)
    header, header_row = None, 0
    rows, nums, problems, pending = [], [], [], []
    cells = 0
    for ln, rec, problem in _csv_records(text, delim):
        if header is None:
            if problem:
                pending.append(Problem(ln, "", problem))
                continue
            if _blank(rec) or (header_at is not None and ln < header_at):
                continue
            header, header_row = _clean_header(rec, name, limits), ln
            continue
        if problem:
            problems.append(Problem(ln, "", problem))
            continue
        if _blank(rec):
            continue
        w = len(header)
        if len(rec) > w and not _blank(rec[w:]):
            problems.append(Problem(ln, "", f"has {len(rec)} fields but the header has {w} "
                                            f"(an unquoted {'TAB' if delim == chr(9) else repr(delim)} in a value?)"))
            continue
        long_cell = next((i for i, c in enumerate(rec[:w]) if len(c) > limits.max_cell_chars), None)
        if long_cell is not None:
            problems.append(Problem(ln, header[long_cell], f"value longer than {limits.max_cell_chars:,} characters"))
            continue
        if len(rows) >= limits.max_rows:
            raise TabularError(f"{name}: more than {limits.max_rows:,} data rows (stopped reading at line {ln:,}); "
                               f"split the file")
        cells += w
        if cells > limits.max_cells:
            raise TabularError(f"{name}: more than {limits.max_cells:,} cells; split the file")
        rows.append([c.strip() for c in (rec + [""] * w)[:w]])
        nums.append(ln)
    if header is None:
        raise TabularError(f"{name}: the file is empty" if not pending else f"{name}: {pending[0].reason} (row "
                           f"{pending[0].row})")
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return Table(frame, nums, name, problems, notes, "csv", None, delim, decimal, header_row)


# ----------------------------------------------------------------------------- XLSX

def _xlsx_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v).strip()


def _check_zip(data: bytes, name: str, limits: Limits) -> dict:
    """Archive checks before openpyxl opens anything (it parses a whole sheet just to
    find its size when the <dimension> tag is missing): unpacked size, then every sheet's
    rows and widest column from its XML. Returns {sheet member: (rows, widest column)}."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TabularError(f"{name}: not a readable .xlsx workbook (damaged, or not an Excel file)")
    if "[Content_Types].xml" not in names:
        raise TabularError(f"{name}: not an .xlsx workbook (a zip without a workbook inside)")
    if unpacked > limits.max_unpacked:
        raise TabularError(f"{name}: the workbook unpacks to {unpacked / 1e6:,.0f} MB, above the "
                           f"{limits.max_unpacked / 1e6:,.0f} MB limit")
    scans = {}
    for member in sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)):
        rows, widest = scans[member] = _scan_sheet(data, member)
        if rows > limits.max_rows + 50:
            raise TabularError(f"{name}: a sheet has {rows:,} rows, above the {limits.max_rows:,} row limit; "
                               f"split the file (or delete stray cells far below the data)")
    return scans


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _scan_sheet(data: bytes, member: str | None) -> tuple[int, int]:
    """(row elements, widest column referenced) of a sheet's XML, streamed through zlib
    in 1 MB pieces: a million-row or 16,000-column sheet is found without building
    a single cell object."""
    if not member:
        return 0, 0
    rows, widest, tail = 0, 0, b""
    cref = re.compile(rb'<c r="([A-Z]{2,3})\d')
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z, z.open(member.lstrip("/")) as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                buf = tail + chunk
                rows += buf.count(b"<row") - tail.count(b"<row")
                for letters in set(cref.findall(buf)):
                    widest = max(widest, _col_index(letters))
                tail = buf[-12:]
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return 0, 0
    return rows, widest


def _pick_sheet(wb, prefer: Iterable[str] | None, header_test=None):
    """A preferred sheet by name, else the first whose first 20 rows hold a header
    header_test accepts, else the first sheet."""
    names = list(wb.sheetnames)
    low = {n.lower(): n for n in names}
    for p in prefer or ():
        if p.lower() in low:
            return wb[low[p.lower()]]
    if header_test is not None and len(names) > 1:
        for ws in wb.worksheets[:20]:
            try:
                rows = ((i, [_xlsx_cell(v) for v in r[:200]])
                        for i, r in enumerate(ws.iter_rows(values_only=True, max_row=20, max_col=200), start=1))
                if _header_line(rows, header_test) is not None:
                    return ws
            except Exception:
                continue
    return wb.worksheets[0]


def _read_xlsx(data: bytes, name: str, limits: Limits, header_test, prefer_sheets) -> Table:
    from openpyxl import load_workbook
    scans = _check_zip(data, name, limits)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:     # openpyxl raises many types for damaged archives
        raise TabularError(f"{name}: not a readable .xlsx workbook ({type(e).__name__})")
    try:
        if not wb.worksheets:
            raise TabularError(f"{name}: the workbook has no sheets")
        ws = _pick_sheet(wb, prefer_sheets, header_test)
        return _read_sheet(ws, wb.sheetnames, name, limits, header_test,
                           scans.get(str(getattr(ws, "_worksheet_path", "")).lstrip("/"), (0, 0)))
    except TabularError:
        raise
    except Exception as e:
        raise TabularError(f"{name}: cannot read the workbook ({type(e).__name__})")
    finally:
        wb.close()


def _read_sheet(ws, sheetnames, name, limits: Limits, header_test, scan: tuple[int, int] = (0, 0)) -> Table:
    title = short(ws.title, 40)
    where = f"sheet '{title}'" + (f" ({len(sheetnames)} sheets: only this one is read)"
                                  if len(sheetnames) > 1 else "")
    try:
        max_col, max_row = ws.max_column, ws.max_row
    except Exception:
        max_col = max_row = None
    n_rows, widest = scan
    max_col = max(max_col or 0, widest) or None
    if n_rows > limits.max_rows + 50:
        raise TabularError(f"{name}: {where} has {n_rows:,} rows, above the {limits.max_rows:,} row limit; "
                           f"split the file")
    if max_col and max_col > limits.max_cols:
        raise TabularError(f"{name}: {where} is {max_col:,} columns wide (a stray cell far to the right?), "
                           f"above the {limits.max_cols} column limit; delete the unused columns")
    if max_row and max_row > limits.max_rows + 50:
        raise TabularError(f"{name}: {where} has {max_row:,} rows, above the {limits.max_rows:,} row limit; "
                           f"split the file (or delete stray cells far below the data)")
    # declared width within the limit: rows come padded to it; unknown: only the cells
    # present (a row longer than the limit is refused as soon as it is read)
    width = max_col if max_col else None

    def first_rows():
        for i, r in enumerate(ws.iter_rows(values_only=True, max_col=width, max_row=200), start=1):
            yield i, [_xlsx_cell(v) for v in r[:limits.max_cols]]

    header_at = _header_line(first_rows(), header_test)
    header, header_row, rows, nums = None, 0, [], []
    cells = w = 0
    blank_run = 0
    for i, r in enumerate(ws.iter_rows(values_only=True, max_col=width), start=1):
        if len(r) > limits.max_cols and any(v not in (None, "") for v in r[limits.max_cols:]):
            raise TabularError(f"{name}: {where} has values beyond column {limits.max_cols} (row {i}), above the "
                               f"column limit; delete the unused columns")
        if header is not None and len(r) > w and any(v not in (None, "") for v in r[w:]):
            raise TabularError(f"{name}: {where} row {i} has values to the right of the last named column "
                               f"({describe_columns(header[-1:], 1)}); give those columns a header or delete them")
        vals = [_xlsx_cell(v) for v in (r[:w] if header is not None else r[:limits.max_cols])]
        if _blank(vals):
            blank_run += 1
            if blank_run > limits.max_rows:
                raise TabularError(f"{name}: {where} has more than {limits.max_rows:,} blank rows (stray cells far "
                                   f"below the data?); delete them")
            continue
        blank_run = 0
        if header is None:
            if header_at is not None and i < header_at:
                continue
            header, header_row = _clean_header(vals, name, limits), i
            w = len(header)
            continue
        if len(rows) >= limits.max_rows:
            raise TabularError(f"{name}: {where} has more than {limits.max_rows:,} data rows (stopped reading at "
                               f"row {i:,}); split the file")
        cells += w
        if cells > limits.max_cells:
            raise TabularError(f"{name}: {where} has more than {limits.max_cells:,} cells; split the file")
        rows.append(vals + [""] * (w - len(vals)))
        nums.append(i)
    if header is None:
        raise TabularError(f"{name}: {where} is empty")
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return Table(frame, nums, name, [], [f"read {where}"], "xlsx", ws.title, None, ".", header_row)


# ----------------------------------------------------------------------------- entry point

def is_xlsx(data: bytes, filename: str) -> bool:
    ext = PurePath(str(filename)).suffix.lower()
    return ext in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04"


def check_bytes(data: bytes | None, name: str, limits: Limits, what: str = "file") -> None:
    """The whole-file checks every reader makes first: not empty, not above the size limit."""
    if data is None or len(data) == 0:
        raise TabularError(f"{name}: the file is empty")
    if len(data) > limits.max_bytes:
        raise TabularError(f"{name}: the {what} is {len(data) / 1e6:,.1f} MB, above the "
                           f"{limits.max_bytes / 1e6:,.0f} MB limit; split it or remove unused columns")


def read_tabular(data: bytes, filename: str, *, limits: Limits | None = None,
                 header_test: Callable[[list[str]], bool] | None = None,
                 prefer_sheets: Iterable[str] | None = None, what: str = "file",
                 require_rows: bool = True) -> Table:
    """CSV / TSV / XLSX bytes -> Table; TabularError for whole-file problems.

    header_test: optional; the header is the first non-blank row (within the first 20)
    it accepts, else the first non-blank row. prefer_sheets: XLSX sheet names to read
    first (else the first sheet). what: word used in messages ("service file")."""
    limits = limits or Limits()
    name = display_name(filename)
    check_bytes(data, name, limits, what)
    ext = PurePath(str(filename)).suffix.lower()
    if ext == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TabularError(f"{name}: old .xls workbooks are not supported; save it as .xlsx or CSV")
    if is_xlsx(data, filename):
        t = _read_xlsx(data, name, limits, header_test, prefer_sheets)
    else:
        t = _read_csv(data, name, limits, header_test)
    if require_rows and not len(t.frame):
        bad = f" ({len(t.problems)} unreadable row(s): first at row {t.problems[0].row}, {t.problems[0].reason})" \
            if t.problems else ""
        raise TabularError(f"{name}: no data rows under the header{bad}")
    return t


def problems_frame(problems: list[Problem], file: str) -> pd.DataFrame:
    return pd.DataFrame([{"file": file, "row": p.row, "field": p.field, "reason": p.reason} for p in problems],
                        columns=["file", "row", "field", "reason"])
