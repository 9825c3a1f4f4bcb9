"""Exports of a view on the real store: CSV/XLSX tables (header block, formula-safe), the
GeoPackage read back with geopandas, the ward profile data, empty selections, CLI exit codes
and the geo/ import rule."""
from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from geo import export as X
from geo import viewstate as VS
from geo.csvsafe import TRIGGERS

ROOT = Path(__file__).resolve().parents[2]
PY = [sys.executable, "-m", "geo"]


def _cli(*args, env=None):
    import os
    return subprocess.run(PY + list(args), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def read_csv_export(path_or_bytes):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    text = data.decode("utf-8-sig")
    head, _, table = text.partition("\n\n")
    header = [r[0] for r in csv.reader(io.StringIO(head))]
    return header, pd.read_csv(io.StringIO(table), dtype={"wd24cd": str, "lsoa_code": str})


def test_ward_csv_of_a_place_matches_the_store(store, tmp_path):
    out = tmp_path / "fylde.csv"
    # IoD2025 is the app's default now: this export asks for IoD2019 explicitly
    r = _cli("export", "--place", "Fylde Coast", "--format", "csv", "--vintage", "2019", "--out", str(out))
    assert r.returncode == 0, r.stderr
    header, t = read_csv_export(out)
    expect = store.wards24[store.wards24["place5"] == "Fylde Coast"]
    assert sorted(t["wd24cd"]) == sorted(expect["wd24cd"])
    assert all(h.startswith("# ") for h in header)
    joined = "\n".join(header)
    for must in ("Filter: area: Place (legacy five): Fylde Coast", "IoD2019", "Sources:", "Attribution:",
                 "Open Government Licence", "View (URL query):", f"Rows: {len(expect)}"):
        assert must in joined, must
    # the figures are the report's (build_table) figures for those wards
    from geo.report import build_table
    ref = build_table(store, "ward", vintage=2019).set_index("code").loc[t["wd24cd"], "imd_score"]
    assert (t["imd_score"].to_numpy() - ref.to_numpy()).__abs__().max() < 1e-5


def test_lsoa_csv_of_a_district_2025(store, tmp_path):
    out = tmp_path / "burnley.csv"
    r = _cli("export", "--url-state", "vintage=2025&measure=income&area=district:E07000117", "--level", "lsoa",
             "--format", "csv", "--out", str(out))
    assert r.returncode == 0, r.stderr
    header, t = read_csv_export(out)
    expect = store.lsoa25[store.lsoa25["lad19cd"] == "E07000117"]
    assert sorted(t["lsoa_code"]) == sorted(expect["lsoa21cd"])
    assert {"income_decile", "income_score", "imd_decile", "core20", "wd24cd"} <= set(t.columns)
    assert int(t["core20"].sum()) == int((expect["imd_decile"] <= 2).sum())
    assert any("IoD2025" in h for h in header)


@pytest.fixture()
def hostile_priority(tmp_path, store):
    """A priority config whose list name/source are formulas, listing two real wards."""
    codes = sorted(store.wards24["wd24cd"])[:2]
    p = tmp_path / "priority.yaml"
    p.write_text(f"""schema_version: 1
icb_list:
  name: "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"
  source: "@SUM(1+1)"
  date: 2025-01-31
  ward_vintage: WD24
  wards: [{codes[0]}, {codes[1]}]
""", encoding="utf-8")
    return p, codes


def test_xlsx_is_formula_safe_with_header_block(store, tmp_path, hostile_priority, monkeypatch):
    cfg, codes = hostile_priority
    out = tmp_path / "p.xlsx"
    r = _cli("export", "--url-state", "prio=icb&title=-2%2B3 workshop", "--selection", "priority",
             "--format", "xlsx", "--out", str(out), env={"LSC_PRIORITY_WARDS": str(cfg)})
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    ws = wb.active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for c in cells:
        if isinstance(c.value, str):
            assert not c.value.startswith(TRIGGERS), (c.coordinate, c.value)
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "wd24cd")        # 0-based
    labels = {r[0]: r[1] for r in rows[:top] if r[0]}
    assert labels["Title"] == "'-2+3 workshop"
    assert labels["Priority wards"].startswith("'=HYPERLINK")
    assert "2025-01-31" in labels["Priority wards"] and labels["Rows"] == "2"
    # the table: header row then exactly the two listed wards
    assert sorted(r[0] for r in rows[top + 1:]) == codes
    assert all(r[2] == "ICB list" for r in rows[top + 1:])
    top += 1                                                           # 1-based sheet row
    assert ws.freeze_panes == f"A{top + 1}"


@pytest.mark.real_data
def test_empty_selection_is_a_message_not_a_file(tmp_path):
    # the NHSE/I 2021 list names no exemplar ward in Northamptonshire (and the local list is empty)
    for fmt in ("csv", "xlsx", "gpkg"):
        out = tmp_path / f"empty.{fmt}"
        r = _cli("export", "--icb", "E54000059", "--url-state", "prio=exemplar", "--selection", "priority",
                 "--format", fmt, "--out", str(out))
        assert r.returncode == 1, (fmt, r.stderr)
        assert "Nothing to export" in r.stderr and "priority" in r.stderr
        assert not out.exists()
        assert list(tmp_path.iterdir()) == []          # no partial/temp file either
    r = _cli("export", "--format", "csv", "--selection", "ward", "--out", str(tmp_path / "w.csv"))
    assert r.returncode == 1 and "no ward is selected" in r.stderr


def test_geopackage_reads_back_with_crs_rows_and_styles(store, tmp_path):
    out = tmp_path / "fylde.gpkg"
    r = _cli("export", "--place", "Fylde Coast", "--format", "gpkg", "--vintage", "2019", "--out", str(out))
    assert r.returncode == 0, r.stderr
    import pyogrio
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert {"lsoa_deprivation", "wards", "area"} <= set(names)
    lsoa = gpd.read_file(out, layer="lsoa_deprivation")
    wards = gpd.read_file(out, layer="wards")
    area = gpd.read_file(out, layer="area")
    assert lsoa.crs.to_epsg() == 4326 and wards.crs.to_epsg() == 4326
    exp_lsoa = store.lsoa[store.lsoa["place5"] == "Fylde Coast"]
    assert len(lsoa) == len(exp_lsoa) and set(lsoa["lsoa_code"]) == set(exp_lsoa["lsoa11cd"])
    assert len(wards) == int((store.wards24["place5"] == "Fylde Coast").sum())
    assert len(area) == 1
    # geometry is the store's, deciles are the store's
    m = lsoa.merge(pd.DataFrame(exp_lsoa[["lsoa11cd", "imd_decile"]]), left_on="lsoa_code", right_on="lsoa11cd")
    assert (m["decile"].astype(int) == m["imd_decile_y"].astype(int)).all()
    assert abs(lsoa.to_crs(27700).area.sum() - exp_lsoa.to_crs(27700).area.sum()) < 1.0
    con = sqlite3.connect(out)
    styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
    con.close()
    import xml.etree.ElementTree as ET
    for name, qml in styles.items():
        root = ET.fromstring(qml.split(">", 1)[1] if qml.startswith("<!DOCTYPE") else qml)   # well-formed
        assert root.tag == "qgis" and root.find("renderer-v2") is not None, name
    r = ET.fromstring(styles["lsoa_deprivation"].split(">", 1)[1]).find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "decile"
    cats = r.find("categories").findall("category")
    assert [c.get("value") for c in cats] == [str(d) for d in range(1, 11)]
    assert len(r.find("symbols").findall("symbol")) == 10
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp file left


def test_gpkg_2025_draws_the_2021_polygons(store, tmp_path):
    st = VS.ViewState.of(vintage=2025, area_kind="district", area_code="E06000009")
    # the bare LSC store holds a 2021 polygon only where the 2011 code is unchanged
    layers = X.geo_layers(store, st)
    l25 = store.lsoa25[(store.lsoa25["lad19cd"] == "E06000009") & store.lsoa25["drawable"].astype(bool)]
    assert len(layers["lsoa_deprivation"]) == len(l25)
    # the footprint view the app and `geo export` use holds every 2021 polygon
    from geo.footprint import footprint
    view = footprint(store, "E54000048")
    g = X.geo_layers(view, st)["lsoa_deprivation"]
    every = view.lsoa25[view.lsoa25["lad19cd"] == "E06000009"]
    assert len(g) == len(every) and set(g["lsoa_code"]) == set(every["lsoa21cd"])
    assert (g.set_index("lsoa_code")["decile"].astype(int)
            == every.set_index("lsoa21cd").loc[g["lsoa_code"], "imd_decile"].astype(int).values).all()


def test_ward_profile_data_matches_store(store):
    code = store.wards24.sort_values("wd24cd")["wd24cd"].iloc[40]
    p = X.ward_profile(store, code, 2019, {code: ["candidate"]})
    mine = store.lsoa[store.lsoa["wd24cd"] == code]
    assert len(p["lsoas"]) == len(mine)
    assert sum(d["n"] for d in p["deciles"]) == len(mine)
    assert abs(sum(d["population"] for d in p["deciles"]) - mine["pop2015"].sum()) < 1e-6
    assert [r["area"] for r in p["comparison"]][2:] == ["ICB: NHS Lancashire and South Cumbria ICB", "England"]
    with pytest.raises(X.EmptySelection):
        X.ward_profile(store, "E05999999", 2019)


_STORE_FIRST = pytest.mark.real_data      # `geo export` reads the store before it checks these


@pytest.mark.parametrize("args,msg", [
    pytest.param(["export", "--place", "Atlantis", "--format", "csv", "--out", "/tmp/x.csv"], "unknown place",
                 marks=_STORE_FIRST),
    pytest.param(["export", "--ward", "E05999999", "--format", "pdf", "--out", "/tmp/x.pdf"], "unknown --ward",
                 marks=_STORE_FIRST),
    pytest.param(["export", "--format", "pdf", "--out", "/tmp/x.pdf"], "give --ward", marks=_STORE_FIRST),
    pytest.param(["export", "--format", "csv", "--measure", "wealth", "--out", "/tmp/x.csv"], "unknown --measure",
                 marks=_STORE_FIRST),
    pytest.param(["export", "--format", "csv", "--strict", "--url-state", "z=-4&lat=54&lon=-2", "--out",
                  "/tmp/x.csv"], "Zoom", marks=_STORE_FIRST),
    (["snapshot", "--out", "/tmp/x.png", "--width", "-10"], "out of range"),
    (["snapshot", "--out", "/tmp/x.png", "--height", "100000"], "out of range"),
    (["snapshot", "--out", "/tmp/x.jpg"], ".png"),
    (["export", "--format", "docx", "--out", "/tmp/x"], "invalid choice"),
])
def test_cli_usage_errors_exit_2(args, msg):
    r = _cli(*args)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert msg in r.stderr


@pytest.mark.real_data
def test_tampered_url_state_is_noted_not_fatal(tmp_path):
    out = tmp_path / "t.csv"
    r = _cli("export", "--format", "csv", "--url-state", "measure=<script>&ward=E05999999&zzz=1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "note:" in r.stderr and "<script>" not in r.stderr
    header, t = read_csv_export(out)
    assert len(t) > 0 and not any("<script>" in h for h in header)


def test_geo_never_imports_streamlit_or_folium():
    code = ("import sys, geo.viewstate, geo.export, geo.__main__\n"
            "bad = [m for m in ('streamlit', 'folium', 'branca', 'layers') if m in sys.modules]\n"
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_write_atomic_leaves_no_partial_file(tmp_path):
    target = tmp_path / "a.csv"
    X.write_atomic(target, b"old")
    with pytest.raises(TypeError):
        X.write_atomic(target, object())          # fails mid-write
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
