"""Exports of a view with the access layer on carry the access figures (XLSX, CSV,
GeoPackage), and every CSV export reads back with pandas.read_csv(comment="#")."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from geo import access as ac
from geo import export as X
from geo import services as sv
from geo import viewstate as VS

ROOT = Path(__file__).resolve().parents[2]
URL = "layers=wards,access&acc=act&thr=10"


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def expected(store):
    """Independent: the access figures straight from geo.access for the same settings."""
    res = ac.compute_access(["act"], store=store, register=sv.load_register())
    return ac.summarise(res.per_lsoa, "ward", threshold_km=10.0, wards=store.wards24).set_index("code")


def test_xlsx_with_access_layer_contains_the_access_figures(store, tmp_path, expected):
    out = tmp_path / "x.xlsx"
    r = _cli("export", "--format", "xlsx", "--url-state", URL, "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    top = next(i for i, x in enumerate(rows) if x[0] == "wd24cd")
    meta = {x[0]: x[1] for x in rows[:top] if x[0]}
    assert meta["Access: threshold"] == "10 km straight-line"
    assert "Alcohol Care Team" in meta["Access: categories"] and meta["Access: sites open on"]
    t = pd.DataFrame(rows[top + 1:], columns=rows[top]).set_index("wd24cd")
    assert len(t) == 277
    for c in X.ACCESS_WARD_COLS:
        got, want = t[f"access_{c}"].astype(float), expected.loc[t.index, c].astype(float)
        assert ((got - want).abs().fillna(0) < 1e-6).all() and (got.isna() == want.isna()).all(), c
    assert t["access_population_beyond"].sum() > 0


def test_csv_export_reads_back_with_comment_hash(store, tmp_path, expected):
    out = tmp_path / "x.csv"
    r = _cli("export", "--format", "csv", "--url-state", URL, "--out", str(out))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out, comment="#")
    assert t.columns[0] == "wd24cd" and len(t) == 277
    assert (t.set_index("wd24cd")["access_population_beyond"] == expected["population_beyond"]).all()
    # every metadata line is one unquoted '#' line; the first says how many lines QGIS discards
    text = out.read_bytes().decode("utf-8-sig")
    head = text.split("\n\n")[0].splitlines()
    assert all(ln.startswith("# ") and "," not in ln for ln in head)
    n = int(head[0].split("discard = ")[1].split(";")[0])
    assert text.splitlines()[n].startswith('"wd24cd"')


def test_csv_hash_and_commas_in_cells_and_header_survive(store):
    rows = pd.DataFrame({"name": ["Ward #1, north", "=cmd"], "n": [1, 2]})
    data = X.csv_bytes(rows, [("Title", 'Report #3, "draft", 1,000 people'), ("Note", "a\nb")])
    t = pd.read_csv(io.BytesIO(data), comment="#")
    assert t["name"].tolist() == ["Ward #1, north", "'=cmd"] and t["n"].tolist() == [1, 2]
    head = data.decode("utf-8-sig").split("\n\n")[0].splitlines()
    assert "# Title: Report #3; 'draft'; 1000 people" in head and "# Note: a b" in head


def test_gpkg_with_access_layer_has_the_figures(store, tmp_path, expected):
    out = tmp_path / "x.gpkg"
    r = _cli("export", "--format", "gpkg", "--url-state", URL, "--out", str(out))
    assert r.returncode == 0, r.stderr
    w = gpd.read_file(out, layer="wards").set_index("wd24cd")
    assert (w["access_population_beyond"] == expected.loc[w.index, "population_beyond"]).all()
    # per-LSOA access figures are on the 2011 LSOAs the access points use: the IoD2019 view
    out19 = tmp_path / "x19.gpkg"
    r = _cli("export", "--format", "gpkg", "--url-state", URL + "&vintage=2019", "--out", str(out19))
    assert r.returncode == 0, r.stderr
    lsoa = gpd.read_file(out19, layer="lsoa_deprivation")
    assert lsoa["access_distance_km"].notna().all() and lsoa["access_nearest_site"].notna().all()


def test_view_without_access_layer_has_no_access_columns(store):
    rows, header = X.table_for_view(store, VS.ViewState(layers=("wards",)))
    assert not [c for c in rows.columns if c.startswith("access_")]
    assert not [k for k, _ in header if k.startswith("Access")]


def test_ward_profile_export_data_has_services_and_outreach(store):
    p = X.ward_profile(store, "E05015188")          # Bloomfield, Blackpool: hosts a stop
    svc = {x["category"]: x for x in p["services"]}
    assert svc["gp"]["in_or_near"] > 0 and svc["gp"]["nearest"]
    assert p["outreach"] and {x["state"] for x in p["outreach"]} <= {"visited", "today", "upcoming", "cancelled"}
    assert all("ILLUSTRATIVE" in x["name"] for x in p["outreach"])
