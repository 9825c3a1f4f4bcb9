"""Service register: shipped real data, import formats, row-level validation of hostile
input, saving user files safely."""
from __future__ import annotations

import datetime as dt
import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from geo import services as sv
from geo.csvsafe import safe_csv_bytes
from geo.paths import ROOT

HEADER = "id,name,category,postcode,lat,lon,easting,northing,event_date,opened\n"
GOOD = "OK-1,Royal Blackburn (postcode),hospital,BB2 3HH,,,,,,\n"


def _imp(text: str | bytes, name="upload.csv", **kw) -> sv.ImportResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return sv.import_bytes(data, name, **kw)


def _reason(res: sv.ImportResult, rid: str) -> str:
    r = res.rejected[res.rejected["id"] == rid]
    assert len(r) == 1, (rid, res.rejected.to_dict("records"))
    return r.iloc[0]["reason"]


# --- shipped real data ---------------------------------------------------------------

@pytest.fixture(scope="module")
def register(real_source):
    return sv.load_register(include_user=False)


def test_register_loads_all_active_gp_practices(register, real_source):
    gp = pd.read_csv(real_source / "services/gp_practices_epraccur_2025_lsc.csv", dtype=str)
    active = gp[gp["is_active_gp_practice"] == "True"]
    got = register.category("gp")
    assert len(got) == len(active)
    assert set(got["id"]) == set(active["organisation_code"])
    assert not register.fatal and register.rejected.empty


def test_register_hospitals_are_the_nhs_sites(register, real_source):
    h = pd.read_csv(real_source / "services/hospitals_nhs_website_2023_lsc.csv", dtype=str)
    nhs = h[(h["Sector"] == "NHS Sector") | h["ParentODSCode"].str.startswith("R")]
    nhs = nhs[nhs["OrganisationCode"] != "RXL64"]              # a screening programme, not a hospital
    got = register.category("hospital")
    assert set(got["id"]) == set(nhs["OrganisationCode"])
    assert not got["id"].str.startswith("NT").any()             # independent-sector groups excluded
    # coordinates are the source's own lat/long
    m = got.merge(h, left_on="id", right_on="OrganisationCode")
    assert np.allclose(m["lat"], m["Latitude"].astype(float), atol=1e-5)


def test_curated_rows_have_sources_and_no_typed_coordinates():
    for f in ("act_hospitals.csv", "screening_sites.csv", "hari_bus_schedule_ILLUSTRATIVE.csv"):
        d = pd.read_csv(ROOT / "data/services" / f, dtype=str)
        assert d["source"].fillna("").str.len().gt(10).all(), f
        assert not ({"lat", "lon", "easting", "northing"} & set(d.columns)), f


def test_act_hospitals_status_follows_dates(register):
    act = register.category("act")
    assert set(act["site_ref"]) == {"RXR20", "RXL01"}
    elht = act[act["site_ref"] == "RXR20"]
    before = sv.effective_status(elht, "2024-06-01").iloc[0]
    after = sv.effective_status(elht, "2025-06-01").iloc[0]
    assert (before, after) == ("open", "closed")
    assert set(sv.open_sites(register.records, "act", "2025-06-01")["site_ref"]) == {"RXL01"}
    assert set(sv.open_sites(register.records, "act", "2024-06-01")["site_ref"]) == {"RXL01", "RXR20"}


def test_curated_sites_sit_at_their_hospital(register, real_source):
    h = pd.read_csv(real_source / "services/hospitals_nhs_website_2023_lsc.csv", dtype=str).set_index("OrganisationCode")
    cur = register.records[register.records["category"].isin(["act", "screening"]) & register.records["site_ref"].ne("")]
    assert len(cur) >= 7
    for r in cur.itertuples():
        src = h.loc[r.site_ref]
        assert abs(r.lat - float(src["Latitude"])) < 1e-5 and abs(r.lon - float(src["Longitude"])) < 1e-5


def test_bus_schedule_is_illustrative(register):
    bus = register.category("hari_bus")
    assert len(bus) > 0 and bus["illustrative"].all()
    assert bus["name"].str.contains("ILLUSTRATIVE").all()
    assert bus["event_date"].notna().all()
    assert not register.records.loc[register.records["category"] != "hari_bus", "illustrative"].any()


# --- formats -------------------------------------------------------------------------

@pytest.mark.real_data
def test_templates_import_cleanly():
    for f in ("services_template.csv", "hari_bus_template.csv", "services_template.geojson"):
        r = sv.import_file(ROOT / "data/templates" / f)
        assert r.ok and r.rejected.empty and len(r.records) > 0, (f, r.summary())


@pytest.mark.real_data
def test_xlsx_import_with_real_date_cells(tmp_path):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "services"
    ws.append(["id", "name", "category", "postcode", "event_date", "start_time", "end_time"])
    ws.append(["S1", "Stop at Burnley", "hari_bus", "BB10 2PQ", dt.datetime(2025, 3, 4), dt.time(9, 30), dt.time(12)])
    ws.append(["S2", "No date", "hari_bus", "BB10 2PQ", None, None, None])
    ws.append(["S3", "", "hari_bus", "BB10 2PQ", dt.date(2025, 3, 5), None, None])
    p = tmp_path / "stops.xlsx"
    wb.save(p)
    r = sv.import_file(p)
    assert r.records["id"].tolist() == ["S1"]
    assert r.records.iloc[0][["event_date", "start_time", "end_time"]].tolist() == ["2025-03-04", "09:30", "12:00"]
    assert "event_date" in _reason(r, "S2")
    assert _reason(r, "S3") == "missing name"
    assert r.rejected.set_index("id").loc["S2", "row"] == 3    # spreadsheet row numbers


@pytest.mark.real_data
def test_geojson_import_points_and_reject_polygons(tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.7068, 53.7915]},
         "properties": {"id": "G1", "name": "Near Royal Preston", "category": "hospital"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
         "properties": {"id": "G2", "name": "A polygon", "category": "hospital"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [53.7915, -2.7068]},
         "properties": {"id": "G3", "name": "Swapped", "category": "hospital"}},
    ]}
    r = _imp(json.dumps(fc), "sites.geojson")
    assert r.records["id"].tolist() == ["G1"]
    assert "only Point" in r.rejected[r.rejected["row"] == 2].iloc[0]["reason"]
    assert "swapped" in _reason(r, "G3")


# --- hostile input: each gives its message and the valid rows load ---------------------

def test_empty_file():
    for data in (b"", b"   \n\n"):
        r = _imp(data)
        assert not r.ok and "empty" in r.fatal and "upload.csv" in r.fatal


def test_header_only_file_is_refused_not_a_success():
    """Issue #13: a header with no rows is a whole-file message, not a green "0 loaded"."""
    r = _imp(HEADER)
    assert not r.ok and r.records.empty
    assert "no data rows under the header" in r.fatal


@pytest.mark.real_data
def test_semicolon_and_tab_delimiters_are_detected():
    for d, label in ((";", "';'"), ("\t", "TAB")):
        text = (HEADER + GOOD).replace(",", d)
        r = _imp(text)
        assert r.records["id"].tolist() == ["OK-1"], r.summary()
        assert any(label in n for n in r.notes)


def test_unrecognised_delimiter_gives_a_message():
    r = _imp("id:name:category\n1:x:gp\n")
    assert not r.ok and "no 'name' column" in r.fatal


@pytest.mark.real_data
def test_windows_1252_file_is_read_with_a_note():
    text = HEADER + "C-1,Caf\u00e9 Sant\u00e9 hub,hospital,BB2 3HH,,,,,,\n"
    r = _imp(text.encode("cp1252"))
    assert r.records["name"].tolist() == ["Caf\u00e9 Sant\u00e9 hub"]
    assert any("Windows-1252" in n for n in r.notes)


@pytest.mark.real_data
def test_utf16_file_is_read():
    r = _imp((HEADER + GOOD).encode("utf-16"))
    assert r.records["id"].tolist() == ["OK-1"]


def test_binary_and_corrupt_files_give_a_message():
    r = _imp(b"\x00\x01\x02garbage" * 100, "x.csv")
    assert not r.ok and "binary" in r.fatal
    r = _imp(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert not r.ok and "xlsx" in r.fatal
    r = _imp(b"{not json", "x.geojson")
    assert not r.ok and "JSON" in r.fatal


def test_50_mb_file_is_refused_with_a_message():
    line = GOOD.encode()
    data = HEADER.encode() + line * (50_000_000 // len(line) + 1)
    assert len(data) >= 50_000_000
    r = _imp(data, "huge.csv")
    assert not r.ok and "MB" in r.fatal and "limit" in r.fatal and "huge.csv" in r.fatal


@pytest.mark.real_data
def test_duplicate_ids_keep_the_first():
    text = HEADER + GOOD + "OK-1,Second with same id,hospital,FY3 8NR,,,,,,\n" + "OK-2,Fine,gp,FY3 8NR,,,,,,\n"
    r = _imp(text)
    assert r.records["id"].tolist() == ["OK-1", "OK-2"]
    assert r.records.iloc[0]["name"] == "Royal Blackburn (postcode)"
    rej = r.rejected.iloc[0]
    assert rej["row"] == 3 and "duplicate id 'OK-1'" in rej["reason"] and "row 2" in rej["reason"]


@pytest.mark.real_data
@pytest.mark.parametrize("name", ['<script>alert("x")</script>', '<img src=x onerror="alert(1)">'])
def test_markup_in_names_loads_as_text_with_a_warning(name):
    text = HEADER + GOOD + f'H-1,"{name.replace(chr(34), chr(34) * 2)}",hospital,FY3 8NR,,,,,,\n'
    r = _imp(text)
    assert r.records.set_index("id").loc["H-1", "name"] == name      # kept verbatim; escaped when drawn
    w = r.warnings[r.warnings["id"] == "H-1"]["warning"].iloc[0]
    assert "plain text" in w


@pytest.mark.real_data
def test_formula_cells_load_and_are_neutralised_on_export():
    rows = ['F-1,=HYPERLINK("http://evil"),hospital,BB2 3HH,,,,,,',
            "F-2,+44 formula,hospital,BB2 3HH,,,,,,",
            "F-3,-2+3,hospital,BB2 3HH,,,,,,",
            "F-4,@SUM(A1),hospital,BB2 3HH,,,,,,"]
    r = _imp(HEADER + "\n".join(rows) + "\n")
    assert len(r.records) == 4 and len(r.warnings) == 4
    back = pd.read_csv(io.BytesIO(safe_csv_bytes(r.records)), dtype=str)
    assert all(v.startswith("'") for v in back["name"])
    assert back["name"].str[1:].tolist() == r.records["name"].tolist()
    assert float(back["lon"].iloc[0]) < 0                         # numbers are not touched


@pytest.mark.real_data
def test_point_in_the_sea_is_outside_the_footprint():
    r = _imp(HEADER + GOOD + "SEA-1,Irish Sea off Blackpool,hospital,,53.85,-3.35,,,,\n")
    assert r.records["id"].tolist() == ["OK-1"]
    assert "outside the footprint" in _reason(r, "SEA-1")


@pytest.mark.real_data
def test_point_in_france_is_outside_the_footprint():
    r = _imp(HEADER + GOOD + "FR-1,Paris,hospital,,48.8566,2.3522,,,,\n")
    reason = _reason(r, "FR-1")
    assert "outside the footprint" in reason
    km = float(reason.split(" is ")[1].split(" km")[0].replace(",", ""))
    assert km > 500


@pytest.mark.real_data
def test_easting_northing_given_as_lat_lon():
    r = _imp(HEADER + GOOD + "EN-1,Royal Preston,hospital,,433031,353532,,,,\n")
    assert "British National Grid" in _reason(r, "EN-1")
    assert r.records["id"].tolist() == ["OK-1"]


@pytest.mark.real_data
def test_lat_lon_given_as_easting_northing():
    r = _imp(HEADER + GOOD + "LL-1,Royal Preston,hospital,,,,-2.7068,53.7915,,\n")
    assert "look like lat/lon" in _reason(r, "LL-1")


@pytest.mark.real_data
def test_lat_lon_swapped():
    r = _imp(HEADER + GOOD + "SW-1,Swapped,hospital,,-2.7068,53.7915,,,,\n")
    assert "swapped" in _reason(r, "SW-1")


@pytest.mark.real_data
def test_unknown_and_malformed_postcodes():
    r = _imp(HEADER + GOOD + "PC-1,Nowhere,hospital,ZZ99 9ZZ,,,,,,\n" + "PC-2,Junk,hospital,NOTAPC,,,,,,\n"
             + "PC-3,London,hospital,SW1A 1AA,,,,,,\n")
    assert "unknown postcode 'ZZ99 9ZZ'" in _reason(r, "PC-1") and "in England" in _reason(r, "PC-1")
    assert "not a valid UK postcode" in _reason(r, "PC-2")
    # a real English postcode outside LSC geocodes (England table) and is then outside the footprint
    assert "outside the footprint" in _reason(r, "PC-3") and "LSC boundary" in _reason(r, "PC-3")


@pytest.mark.real_data
def test_missing_name_bad_date_unknown_category_and_no_location():
    text = (HEADER + GOOD + "M-1,,hospital,BB2 3HH,,,,,,\n" + "D-1,Bad date,hospital,BB2 3HH,,,,,,2024-13-45\n"
            + "C-1,Bad cat,spaceport,BB2 3HH,,,,,,\n" + "N-1,Nowhere,hospital,,,,,,,\n"
            + "B-1,Bus without date,hari_bus,BB2 3HH,,,,,,\n")
    r = _imp(text)
    assert r.records["id"].tolist() == ["OK-1"]
    assert _reason(r, "M-1") == "missing name"
    assert "bad date in 'opened'" in _reason(r, "D-1")
    assert "unknown category 'spaceport'" in _reason(r, "C-1") and "gp" in _reason(r, "C-1")
    assert "no location" in _reason(r, "N-1")
    assert "event_date" in _reason(r, "B-1")
    # every report row names file, row and reason
    assert (r.rejected["file"] == "upload.csv").all() and r.rejected["row"].tolist() == [3, 4, 5, 6, 7]


@pytest.mark.real_data
def test_ragged_row_is_rejected_not_fatal():
    r = _imp(HEADER + GOOD + "R-1,Too,many,fields,,,,,,,,extra,more\n")
    assert r.records["id"].tolist() == ["OK-1"]
    assert "fields" in r.rejected.iloc[0]["reason"] and r.rejected.iloc[0]["row"] == 3


@pytest.mark.real_data
def test_all_hostile_rows_in_one_file():
    text = (HEADER + GOOD
            + "X1,<script>alert(1)</script>,hospital,FY3 8NR,,,,,,\n"
            + "X2,=cmd|' /C calc'!A0,hospital,FY3 8NR,,,,,,\n"
            + "X3,Sea,hospital,,53.9,-3.4,,,,\n"
            + "X4,France,hospital,,43.3,5.4,,,,\n"
            + "X5,BNG as lat/lon,hospital,,433031,353532,,,,\n"
            + "OK-1,dup,hospital,FY3 8NR,,,,,,\n"
            + "X6,,hospital,FY3 8NR,,,,,,\n")
    r = _imp(text)
    assert sorted(r.records["id"]) == ["OK-1", "X1", "X2"]
    assert sorted(r.rejected["row"]) == [5, 6, 7, 8, 9]


# --- saving user data ----------------------------------------------------------------

@pytest.mark.real_data
def test_save_user_records_atomic_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    r1 = _imp(HEADER + GOOD, "my sites.csv")
    p1 = sv.save_user_records(r1.records, "my sites.csv")
    first = p1.read_bytes()
    r2 = _imp(HEADER + "OK-9,Other,gp,FY3 8NR,,,,,,\n", "my sites.csv")
    p2 = sv.save_user_records(r2.records, "my sites.csv")
    assert p1 != p2 and p1.read_bytes() == first
    reg = sv.load_register()
    ups = reg.records[reg.records["source_file"].str.startswith("user data")]
    assert set(ups["id"]) == {"OK-1", "OK-9"}

    # a failure during the rename leaves the saved file intact and no temp files behind
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(sv.os, "replace", boom)
    with pytest.raises(OSError):
        sv.atomic_write_bytes(p1, b"half")
    assert p1.read_bytes() == first
    assert [p.name for p in p1.parent.iterdir() if p.name.startswith(".")] == []


def test_upload_joins_register_for_the_session(register):
    r = _imp(HEADER + "U-1,Uploaded site,screening,PR7 1PP,,,,,,\n")
    reg2 = register.with_upload(r)
    assert len(reg2.records) == len(register.records) + 1
    assert len(register.records) == len(reg2.records) - 1          # original unchanged
