"""geo/tabular.py: the one reader behind every tabular upload. Hostile files are built
here (the audit's are not shared): every case ends in a table plus per-row problems, or
one whole-file message naming the user's file; work is bounded while reading."""
from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook

from geo.tabular import (Limits, TabularError, describe_columns, display_name, parse_date, parse_number,
                         read_tabular, sniff_delimiter)


def _xlsx(rows, title="Sheet", extra_sheets=()) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    for name, rws in extra_sheets:
        w2 = wb.create_sheet(name)
        for r in rws:
            w2.append(r)
    b = io.BytesIO()
    wb.save(b)
    return b.getvalue()


def _rewrite_sheet(data: bytes, fn) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for it in zin.infolist():
            d = zin.read(it.filename)
            if it.filename == "xl/worksheets/sheet1.xml":
                d = fn(d.decode()).encode()
            zout.writestr(it, d)
    return out.getvalue()


def test_unterminated_quote_is_one_problem_on_its_row_and_later_rows_load():
    data = b'id,name,lat\n1,a,53.1\n2,"never closed,53.2\n3,c,53.3\n4,d,53.4\n5,e,53.5\n'
    t = read_tabular(data, "q.csv")
    assert t.frame["id"].tolist() == ["1", "3", "4", "5"]
    assert t.rownums == [2, 4, 5, 6]
    assert len(t.problems) == 1 and t.problems[0].row == 3 and "quote" in t.problems[0].reason


def test_stray_quote_closed_later_does_not_swallow_rows():
    data = b'id,name,lat\n1,"a,53.1\n2,b,53.2\n3,c",53.3\n4,d,53.4\n'
    t = read_tabular(data, "q.csv")
    # the record 1.."c" spans three lines with the wrong field count: row 2 is the problem
    assert any(p.row == 2 and "quote" in p.reason for p in t.problems)
    assert "4" in t.frame["id"].tolist() and "2" in t.frame["id"].tolist()


def test_quoted_multiline_value_with_right_width_is_kept():
    t = read_tabular(b'id,name\n1,"line one\nline two"\n2,b\n', "m.csv")
    assert t.frame["name"].tolist() == ["line one\nline two", "b"] and not t.problems


@pytest.mark.parametrize("data,needle", [
    (b"", "empty"), (b"\n\n  \n", "empty"), (b"id,name\n", "no data rows under the header"),
    (b"id,name,ID\n1,a,b\n", "duplicate column name"), (b"\x00\x01\x02binary", "binary"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", ".xls"), (b"PK\x03\x04broken", "xlsx"),
])
def test_whole_file_problems_name_the_user_file_not_a_path(data, needle):
    with pytest.raises(TabularError) as e:
        read_tabular(data, "/tmp/tmpab12cd/My upload.csv")
    msg = str(e.value)
    assert msg.startswith("My upload.csv: ") and needle in msg and "/tmp" not in msg


def test_limits_checked_while_reading():
    rows = b"id,name\n" + b"".join(b"%d,n\n" % i for i in range(5000))
    with pytest.raises(TabularError, match="more than 1,000 data rows"):
        read_tabular(rows, "big.csv", limits=Limits(max_rows=1000))
    with pytest.raises(TabularError, match="MB, above"):
        read_tabular(b"x" * 2000, "b.csv", limits=Limits(max_bytes=1000))
    wide = ",".join(f"c{i}" for i in range(500)).encode() + b"\n" + b"1," * 499 + b"1\n"
    with pytest.raises(TabularError, match="500 columns"):
        read_tabular(wide, "w.csv", limits=Limits(max_cols=200))


def test_row_wider_than_header_is_a_problem_not_a_shift():
    t = read_tabular(b"id,name\n1,a\n2,b,extra\n3,c\n", "x.csv")
    assert t.frame["id"].tolist() == ["1", "3"]
    assert t.problems[0].row == 3 and "3 fields" in t.problems[0].reason


def test_decimal_commas_in_semicolon_files_and_thousands_separators():
    t = read_tabular("id;v\n1;1,5\n2;1.234,5\n3;-0,25\n".encode(), "eu.csv")
    assert t.delimiter == ";" and t.decimal == ","
    assert [parse_number(v, t.decimal) for v in t.frame["v"]] == [1.5, 1234.5, -0.25]
    assert any("decimal commas" in n for n in t.notes)
    assert parse_number("1,234,567.5") == 1234567.5
    assert parse_number("1 234") == 1234.0
    assert parse_number("\u22122.7") == -2.7
    for bad in ("inf", "-Infinity", "nan", "1_000", "12abc", "1e999"):
        with pytest.raises(ValueError):
            parse_number(bad)
    with pytest.raises(ValueError, match="decimal commas"):
        parse_number("1,234.5", ",")
    assert parse_number("") is None


def test_dates_are_strict():
    assert parse_date("2025-11-03") == "2025-11-03"
    assert parse_date("03/11/2025") == "2025-11-03"
    assert parse_date("20251103") == "2025-11-03"
    with pytest.raises(ValueError, match="year and month"):
        parse_date("202511")                    # strptime('%Y%m%d') would read 2025-01-01
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("2025-02-30")
    with pytest.raises(ValueError):
        parse_date("soon")


def test_encodings():
    t = read_tabular("id,name\n1,Café\n".encode("cp1252"), "w.csv")
    assert t.frame["name"].tolist() == ["Café"] and any("Windows-1252" in n for n in t.notes)
    t = read_tabular("id,name\n1,Zoë\n".encode("utf-16"), "u.csv")
    assert t.frame["name"].tolist() == ["Zoë"]
    t = read_tabular(b"\xef\xbb\xbfid,name\n1,a\n", "b.csv")
    assert t.columns == ["id", "name"]


def test_sniffing_ignores_delimiters_inside_quotes():
    assert sniff_delimiter('id;name;v\n1;"a, b, c";2\n') == ";"
    assert sniff_delimiter("id\tname\n1\ta\n") == "\t"
    assert sniff_delimiter('id,name\n1,"x;y;z"\n') == ","


def test_messages_never_echo_the_whole_header():
    cols = [f"column_{i}_" + "x" * 50 for i in range(40)]
    d = describe_columns(cols)
    assert "and 32 more" in d and len(d) < 400
    assert display_name("C:\\Users\\me\\secret\\f.csv") == "f.csv"
    assert display_name("/srv/app/tmp/x\n.csv") == "x .csv"
    assert display_name("**x**<img src=http://e/x.png>\n\n# h") == "**x**<img src=http://e/x.png> # h"


def test_xlsx_far_right_cell_is_refused_in_seconds():
    data = _xlsx([["id", "name"], ["1", "a"]])
    data = _rewrite_sheet(data, lambda s: s.replace("</row></sheetData>",
                                                    '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    t0 = time.perf_counter()
    with pytest.raises(TabularError, match="16,384 columns wide"):
        read_tabular(data, "wide.xlsx")
    assert time.perf_counter() - t0 < 10


def test_xlsx_million_rows_without_dimension_is_refused_before_reading_them():
    data = _xlsx([["id", "name"], ["1", "a"]])

    def many(s):
        s = re.sub(r"<dimension[^>]*/>", "", s)
        body = "".join(f'<row r="{i}"><c r="A{i}" t="n"><v>{i}</v></c></row>' for i in range(3, 1_000_001))
        return s.replace("</sheetData>", body + "</sheetData>")
    data = _rewrite_sheet(data, many)
    t0 = time.perf_counter()
    with pytest.raises(TabularError, match=r"1,000,000 rows, above the 100,000 row limit"):
        read_tabular(data, "million.xlsx")
    assert time.perf_counter() - t0 < 30     # streamed through zlib: no cell objects built


def test_xlsx_says_which_sheet_and_picks_preferred_or_header_sheet():
    data = _xlsx([["notes"], ["about this file"]], title="README",
                 extra_sheets=[("services", [["id", "name"], ["1", "a"]])])
    t = read_tabular(data, "two.xlsx", prefer_sheets=("services",))
    assert t.sheet == "services" and any("sheet 'services'" in n and "2 sheets" in n for n in t.notes)
    data = _xlsx([["notes"]], title="About", extra_sheets=[("Data", [["Area Code", "Value"], ["E07000117", 3]])])
    t = read_tabular(data, "ft.xlsx", header_test=lambda cols: "Area Code" in cols)
    assert t.sheet == "Data" and t.frame["Value"].tolist() == ["3"]


def test_xlsx_cells_become_text():
    import datetime as dt
    data = _xlsx([["id", "lat", "opened", "n"], ["A", 53.75, dt.datetime(2025, 1, 31), 12.0]])
    t = read_tabular(data, "c.xlsx")
    assert t.frame.iloc[0].tolist() == ["A", "53.75", "2025-01-31", "12"]


def test_xlsx_zip_bomb_is_refused_by_unpacked_size():
    data = _xlsx([["id", "name"], ["1", "a"]])
    data = _rewrite_sheet(data, lambda s: s.replace("</worksheet>", "<!--" + " " * 3_000_000 + "--></worksheet>"))
    with pytest.raises(TabularError, match="unpacks to"):
        read_tabular(data, "bomb.xlsx", limits=Limits(max_unpacked=2_000_000))
