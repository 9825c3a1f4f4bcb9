"""Hostile files against every importer (services / venues of the same shape, indicators,
travel-time matrices). Built here: every case is an answer (rows + per-row problems, or one
message naming the user's file), never an exception, and numbers are read right."""
from __future__ import annotations

import io
import json
import random
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from geo import access as ac
from geo import indicators as I
from geo import services as sv
from geo.errors import GeoError, SourceError

GOOD = "R1,Royal Preston Hospital,hospital,PR2 9HT\n"
HEAD = "id,name,category,postcode\n"


def _imp(data, name="upload.csv", **kw):
    return sv.import_bytes(data.encode("utf-8") if isinstance(data, str) else data, name, **kw)


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    b = io.BytesIO()
    wb.save(b)
    return b.getvalue()


# ----------------------------------------------------------------------------- services

def test_semicolon_file_with_decimal_commas_locates_rows_right(store):
    csv = "id;name;category;lat;lon\nA;Royal Preston;hospital;53,7915;-2,7068\n"
    r = _imp(csv)
    assert r.ok and len(r.records) == 1, r.summary()
    assert r.records.iloc[0]["lat"] == pytest.approx(53.7915) and r.records.iloc[0]["lon"] == pytest.approx(-2.7068)


@pytest.mark.parametrize("lat,needle", [("inf", "not a finite number"), ("nan", "not a finite number"),
                                        ("1_000", "not a number"), ("53.79.1", "not a number")])
def test_non_finite_coordinates_are_rejected_with_the_field(store, lat, needle):
    r = _imp(f"id,name,category,lat,lon\nA,X,hospital,{lat},-2.7\n" + "B,Y,hospital,53.79,-2.70\n")
    assert r.records["id"].tolist() == ["B"]
    rej = r.rejected.iloc[0]
    assert rej["row"] == 2 and needle in rej["reason"] and rej["field"] == "lat/lon"


def test_year_month_dates_are_rejected_not_read_as_january(store):
    r = _imp("id,name,category,postcode,opened\nA,X,hospital,PR2 9HT,202511\nB,Y,hospital,PR2 9HT,20251103\n")
    assert r.records["id"].tolist() == ["B"] and r.records.iloc[0]["opened"] == "2025-11-03"
    rej = r.rejected.iloc[0]
    assert rej["field"] == "opened" and "year and month" in rej["reason"]


def test_unterminated_quote_rejects_its_row_only(store):
    rows = "".join(f"S{i},Site {i},hospital,PR2 9HT\n" for i in range(10))
    r = _imp(HEAD + 'Q,"Broken name,hospital,PR2 9HT\n' + rows)
    assert len(r.records) == 10, r.summary()
    assert r.rejected["row"].tolist() == [2] and "quote" in r.rejected.iloc[0]["reason"]


def test_header_only_and_header_echo_and_duplicates_are_whole_file_messages(store):
    assert "no data rows" in _imp(HEAD).fatal
    wide = ",".join(f"col{i}" for i in range(80)) + "\n" + ",".join("1" for _ in range(80)) + "\n"
    f = _imp(wide).fatal
    assert "no 'name' column" in f and "and 72 more" in f and len(f) < 600
    f = _imp("id,name,lat,Latitude,lon\nA,X,53.7,53.7,-2.7\n").fatal
    assert "both mean 'lat'" in f
    f = _imp("id,name,name\nA,X,Y\n").fatal
    assert "duplicate column name" in f


def test_polygon_only_geojson_says_point_geometry_needed(store):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Area"},
         "geometry": {"type": "Polygon", "coordinates": [[[-2.7, 53.7], [-2.6, 53.7], [-2.6, 53.8], [-2.7, 53.7]]]}}]}
    r = _imp(json.dumps(fc), "areas.geojson")
    assert not r.ok and "Point geometry needed" in r.fatal and r.fatal.startswith("areas.geojson: ")


def test_messages_show_the_users_file_name_never_a_server_path(store):
    r = _imp(HEAD, "/tmp/tmpq8x/uploads/Clinic list.csv")
    assert r.file == "Clinic list.csv" and r.fatal.startswith("Clinic list.csv: ") and "/tmp" not in r.fatal


def test_xlsx_says_which_sheet_was_read(store):
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["read me"])
    ws = wb.create_sheet("services")
    ws.append(["id", "name", "category", "postcode"])
    ws.append(["A", "Royal Preston", "hospital", "PR2 9HT"])
    b = io.BytesIO()
    wb.save(b)
    r = _imp(b.getvalue(), "two.xlsx")
    assert len(r.records) == 1 and any("sheet 'services'" in n for n in r.notes)
    assert "sheet 'services'" in r.summary()


def test_far_right_cell_xlsx_is_refused_quickly(store):
    import time
    wb = Workbook()
    wb.active.append(["id", "name", "category", "postcode"])
    wb.active.append(["A", "X", "hospital", "PR2 9HT"])
    wb.active.cell(row=2, column=16_000, value="stray")
    b = io.BytesIO()
    wb.save(b)
    t0 = time.perf_counter()
    r = _imp(b.getvalue(), "stray.xlsx")
    assert not r.ok and "16,000 columns wide" in r.fatal and time.perf_counter() - t0 < 10


def _mutations(seed: int):
    rnd = random.Random(seed)
    base = (HEAD + GOOD * 3).encode()
    xlsx = _xlsx([["id", "name", "category", "postcode"], ["A", "X", "hospital", "PR2 9HT"]])
    yield base[: rnd.randrange(len(base))]
    b = bytearray(base)
    for _ in range(8):
        b[rnd.randrange(len(b))] = rnd.randrange(256)
    yield bytes(b)
    yield bytes(rnd.randrange(256) for _ in range(300))
    yield xlsx[: rnd.randrange(100, len(xlsx))]
    yield b"[" * 50_000 + b"]" * 50_000
    yield b'{"type": "FeatureCollection", "features": [1, "x", {"type": "Feature", "properties": [1]}]}'


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_bytes_never_raise(store, seed):
    for i, data in enumerate(_mutations(seed)):
        for name in ("f.csv", "f.xlsx", "f.geojson", "f"):
            r = sv.import_bytes(data, name)
            assert r.fatal or len(r.records) + len(r.rejected) >= 0
            assert isinstance(r.summary(), str)


@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_bytes_give_indicator_and_travel_messages_only(store, seed):
    base = b"area_code,indicator,period,value\nE07000117,x,2024,1\nE07000118,x,2024,2\n"
    rnd = random.Random(seed)
    for data in list(_mutations(seed)) + [bytes(rnd.choice(base) for _ in range(len(base)))]:
        for name in ("f.csv", "f.xlsx"):
            try:
                I.import_bytes(data, name, store=store)
            except GeoError as e:
                assert str(e).startswith(name)
            try:
                ac.read_travel_times(data, name)
            except GeoError as e:
                assert str(e).startswith(name)


def test_a_bad_saved_file_does_not_take_the_register_down(store, tmp_path, monkeypatch):
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path))
    d = tmp_path / "services"
    d.mkdir()
    (d / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (d / "empty.csv").write_bytes(b"")
    (d / "good.csv").write_text(HEAD + GOOD.replace("R1", "U1"))
    reg = sv.load_register()
    assert "U1" in set(reg.records["id"])
    assert len(reg.fatal) == 2 and any("broken.xlsx" in f for f in reg.fatal)
    shipped = sv.load_register(include_user=False)
    assert len(reg.records) == len(shipped.records) + 1      # every shipped row still loads


# ----------------------------------------------------------------------------- indicators

def test_indicator_decimal_commas_and_user_file_name(store):
    csv = "area_code;indicator;period;value\nE07000117;x;2024;1,5\nE07000118;x;2024;1.234,5\n"
    d = I.import_bytes(csv.encode(), "/tmp/tmpzz/Burnley rates.csv", store=store)
    v = d.table.set_index("code")["value"]
    assert v["E07000117"] == 1.5 and v["E07000118"] == 1234.5
    assert d.report.file == "Burnley rates.csv" and d.dataset == "Burnley rates.csv"


@pytest.mark.parametrize("data,needle", [
    (b"area_code,value\n", "no data rows under the header"),
    (b"area_code,value,Value\nE07000117,1,2\n", "duplicate column name"),
    (b"", "empty"),
])
def test_indicator_whole_file_problems_name_the_file(store, data, needle):
    with pytest.raises(SourceError) as e:
        I.import_bytes(data, "/srv/tmp/abc/mine.csv", store=store)
    assert str(e.value).startswith("mine.csv") and needle in str(e.value) and "/srv" not in str(e.value)


def test_indicator_limits_apply_while_reading(store):
    wb = Workbook()
    wb.active.append(["area_code", "value"])
    wb.active.append(["E07000117", 1])
    wb.active.cell(row=2, column=16_000, value="x")
    b = io.BytesIO()
    wb.save(b)
    with pytest.raises(SourceError, match="16,000 columns wide"):
        I.import_bytes(b.getvalue(), "wide.xlsx", store=store)


def test_indicator_unreadable_rows_are_reported_and_the_rest_match(store):
    csv = 'area_code,indicator,period,value\nE07000117,x,2024,1\nE07000118,"x,2024,2\nE07000119,x,2024,3\n'
    d = I.import_bytes(csv.encode(), "q.csv", store=store)
    assert set(d.table["code"]) == {"E07000117", "E07000119"}
    assert any(p["row"] == 3 and "quote" in p["problem"] for p in d.report.problems)


# ----------------------------------------------------------------------------- travel times

@pytest.fixture(scope="module")
def register(store):
    return sv.load_register(include_user=False)


def test_travel_minutes_inf_negative_and_conflicting_duplicates(store, register):
    lsoa = ac.lsoa_points(store)
    sites = sv.open_sites(register.records, "hospital", "2025-06-01")
    a, b, c = lsoa["lsoa11cd"].iloc[:3]
    s0 = sites["id"].iloc[0]
    csv = (f"lsoa11cd;site_id;minutes\n{a};{s0};12,5\n{b};{s0};inf\n{c};{s0};-4\n"
           f"{a};{s0};12,5\n{b};{s0};7\n{b};{s0};9\n")
    tt = ac.read_travel_times(csv.encode(), "/tmp/x/times.csv", lsoa_codes=set(lsoa["lsoa11cd"]),
                              site_ids=set(register.records["id"]))
    assert tt.file == "times.csv"
    assert tt.table.to_dict("records") == [{"lsoa11cd": a, "site_id": s0, "minutes": 12.5}]
    why = dict(zip(tt.rejected["row"], tt.rejected["reason"]))
    assert "not a finite number" in why[3] and "negative" in why[4]
    assert "conflicting duplicate pair" in why[6] and "rows 6, 7 give 7, 9 minutes" in why[6]
    assert any("same minutes" in n for n in tt.notes)


def test_matrix_without_times_for_the_chosen_sites_says_so(store, register):
    lsoa = ac.lsoa_points(store)
    gp = sv.open_sites(register.records, "gp", "2025-06-01")["id"].iloc[0]
    csv = f"lsoa11cd,site_id,minutes\n{lsoa['lsoa11cd'].iloc[0]},{gp},10\n"
    tt = ac.read_travel_times(csv.encode(), "gp_times.csv", lsoa_codes=set(lsoa["lsoa11cd"]),
                              site_ids=set(register.records["id"]))
    with pytest.raises(GeoError, match="no times for the .* open site"):
        ac.compute_access(["hospital"], store=store, register=register, as_of="2025-06-01", travel=tt)


def test_travel_header_only_and_garbage_are_messages(store):
    for data in (b"lsoa11cd,site_id,minutes\n", b"\x00\x01\x02", b"", b"PK\x03\x04xx"):
        with pytest.raises(GeoError) as e:
            ac.read_travel_times(data, "/tmp/y/t.csv")
        assert str(e.value).startswith("t.csv")
