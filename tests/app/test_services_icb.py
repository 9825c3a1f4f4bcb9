"""Services and geocoding anywhere in England (issue #12 item 5), on the real data: the
register of Northamptonshire (E54000059) is its GP practices, NHS hospital sites and
CDCs from the England-wide files; LSC keeps its curated rows and gains its 8 CDCs;
uploads are checked against the chosen ICB; any English postcode geocodes."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from geo import plan_national as N
from geo import services as sv

NORTHANTS = "E54000059"
LSC = "E54000048"
H = "id,name,category,postcode,lat,lon\n"


def _csv(real_source, name: str) -> pd.DataFrame:
    return pd.read_csv(real_source / "services" / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def northants(store):
    return sv.load_register(include_user=False, icb=NORTHANTS)


@pytest.fixture(scope="module")
def lsc(store):
    return sv.load_register(include_user=False)


def test_northamptonshire_register_has_its_gp_practices_hospitals_and_cdcs(northants, real_source):
    gp = _csv(real_source, "gp_practices_epraccur_2025_england.csv")
    want_gp = gp[(gp["is_active_gp_practice"].str.lower() == "true") & (gp["ICB24CD"] == NORTHANTS)]
    want_gp = want_gp[want_gp["easting"] != ""]
    got = northants.category("gp")
    assert len(want_gp) > 40 and len(got) == len(want_gp)
    assert set(got["id"]) == set(want_gp["organisation_code"])
    # coordinates are the file's Code-Point centroids
    m = got.merge(want_gp, left_on="id", right_on="organisation_code")
    assert np.allclose(m["easting_x"], m["easting_y"].astype(float), atol=0.5)

    h = _csv(real_source, "hospitals_nhs_website_2023_england.csv")
    h = h[h["ICB24CD"] == NORTHANTS]
    nhs = h[(h["Sector"] == "NHS Sector") | h["ParentODSCode"].str.startswith("R")]
    nhs = nhs[~nhs["OrganisationCode"].str.startswith("N") | (nhs["Sector"] == "NHS Sector")]
    got_h = northants.category("hospital")
    assert len(nhs) > 0 and set(got_h["id"]) == set(nhs["OrganisationCode"])
    assert "RNS01" in set(got_h["id"])                    # Northampton General Hospital

    cdc = _csv(real_source, "community_diagnostic_centres_england.csv")
    want_cdc = cdc[cdc["ICB24CD"] == NORTHANTS]
    got_c = northants.category("cdc")
    assert sorted(got_c["name"]) == sorted(want_cdc["name"]) and len(got_c) == 3
    # LSC's curated lists are LSC's: none of them outside LSC
    assert set(northants.records["category"]) == {"gp", "hospital", "cdc"}
    assert not northants.fatal and northants.rejected.empty
    # every row carries its source and data date (legend and popups)
    assert northants.records["source"].str.contains("England").all()
    assert (northants.records["data_date"] != "").all()


def test_lsc_keeps_curated_rows_and_shows_its_8_cdcs(lsc, real_source):
    cdc = _csv(real_source, "community_diagnostic_centres_england.csv")
    want = cdc[cdc["ICB24CD"] == LSC]
    got = lsc.category("cdc")
    assert len(want) == 8 and len(got) == 8
    assert sorted(got["name"]) == sorted(want["name"])
    m = got.merge(want, on="name")
    assert np.allclose(m["lat"], m["latitude"].astype(float), atol=1e-6)
    assert m["data_date"].str.contains("21.10.25").all() and m["source"].str.contains("GOV.UK").all()
    assert (m["offer"] == m["services"]).all()
    # the curated LSC rows and LSC's own GP file stay
    assert {"act", "screening", "hari_bus"} <= set(lsc.records["category"])
    gp = _csv(real_source, "gp_practices_epraccur_2025_lsc.csv")
    assert len(lsc.category("gp")) == (gp["is_active_gp_practice"] == "True").sum()
    assert not lsc.fatal and lsc.rejected.empty


def test_cdc_popup_names_data_date_and_source_and_is_escaped(lsc):
    from layers.services import points_payload
    pay = points_payload(lsc.category("cdc"), lsc.config, "2026-12-02")
    pts = pay["pts"]["cdc"]
    assert len(pts) == 8
    pop = pts[0][2]
    assert "Data date" in pop and "21.10.25" in pop and "GOV.UK" in pop
    assert pay["styles"]["cdc"]["shape"] == "hexagon" and "<polygon" in pay["styles"]["cdc"]["svg"][0]
    # a hostile upload name in Northamptonshire reaches the popup escaped
    cfg = sv.config_for(NORTHANTS)
    r = sv.import_bytes((H + 'X,<img src=x onerror=alert(1)>,cdc,NN1 1EE,,\n').encode(), "x.csv", config=cfg)
    assert len(r.records) == 1
    p = points_payload(r.records, cfg, "2026-12-02")["pts"]["cdc"][0]
    assert "<img" not in p[2] and "&lt;img" in p[2] and "<img" not in p[3]


def test_every_english_postcode_geocodes_to_the_staged_file(store, real_source):
    import pyarrow.csv as pcsv
    from geo.geocode import postcode_lookup
    t = pcsv.read_csv(real_source / "lookups/postcodes_codepoint_open_2025_england.csv.gz",
                      convert_options=pcsv.ConvertOptions(
                          include_columns=["postcode", "latitude", "longitude", "easting", "northing"])).to_pandas()
    assert len(t) == 1_489_121
    lk = postcode_lookup()
    # Northamptonshire postcodes (NN), spelt as people type them
    nn = t[t["postcode"].str.startswith("NN")].sample(2000, random_state=12)
    g = lk.lookup(nn["postcode"].str.lower().str.replace(" ", "", regex=False))
    assert g["found"].all()
    assert (g["easting"].to_numpy() == nn["easting"].to_numpy()).all()
    assert (g["northing"].to_numpy() == nn["northing"].to_numpy()).all()
    assert np.allclose(g["lat"], nn["latitude"], atol=1e-9) and np.allclose(g["lon"], nn["longitude"], atol=1e-9)
    # all of England at once, in the file's order
    g = lk.lookup(t["postcode"])
    assert g["found"].all()
    assert (g["easting"].to_numpy() == t["easting"].to_numpy()).all()
    assert np.allclose(g["lat"], t["latitude"], atol=1e-9)
    # LSC postcodes still come from the LSC table (with their LSOA 2011)
    one = lk.one("bb2 3hh")
    assert one["lsoa11cd"] == "E01012632"
    assert lk.one("ZZ99 9ZZ") is None and "NN1 1EE" in lk


def test_northamptonshire_upload_accepts_its_postcodes_and_rejects_lancashire(store):
    cfg = sv.config_for(NORTHANTS)
    text = (H + "N1,Kings Heath venue,hospital,NN5 7LN,,\n"
            "L1,Royal Blackburn,hospital,BB2 3HH,,\n"
            "N2,Corby by lat/lon,hospital,,52.4915,-0.7122\n"
            "Z1,No such postcode,hospital,ZZ99 9ZZ,,\n")
    r = sv.import_bytes(text.encode(), "northants.csv", config=cfg)
    assert sorted(r.records["id"]) == ["N1", "N2"]
    rej = r.rejected.set_index("id")["reason"]
    assert "outside the footprint" in rej["L1"] and "NHS Northamptonshire ICB" in rej["L1"]
    km = float(re.search(r"is ([\d,.]+) km", rej["L1"]).group(1).replace(",", ""))
    assert 150 < km < 200                                  # Blackburn is ~170 km from Northamptonshire
    assert "unknown postcode 'ZZ99 9ZZ'" in rej["Z1"] and r.rejected.set_index("id").loc["L1", "row"] == 3
    # the same file for LSC: the other way round
    r2 = sv.import_bytes(text.encode(), "northants.csv")
    assert r2.records["id"].tolist() == ["L1"]
    assert "beyond the LSC boundary" in r2.rejected.set_index("id").loc["N1", "reason"]


def test_site_refs_resolve_anywhere_in_england(store, real_source):
    cfg = sv.config_for(NORTHANTS)
    h = _csv(real_source, "hospitals_nhs_website_2023_england.csv").set_index("OrganisationCode")
    r = sv.import_bytes(b"id,name,category,site_ref\nA,Outpatients,hospital,rns01\nB,Nowhere,hospital,QQQ99\n",
                        "refs.csv", config=cfg)
    assert r.records["id"].tolist() == ["A"] and r.records["location_source"].iloc[0] == "site_ref RNS01"
    assert abs(r.records["lat"].iloc[0] - float(h.loc["RNS01", "Latitude"])) < 1e-6
    assert "unknown site_ref 'QQQ99'" in r.rejected.iloc[0]["reason"]


def test_england_footprint_and_unknown_icb(store):
    with pytest.raises(ValueError, match="unknown ICB"):
        sv.config_for("E54000999")
    cfg = sv.config_for("E92000001")
    r = sv.import_bytes((H + "A,Northampton,hospital,NN1 1EE,,\nB,Blackburn,hospital,BB2 3HH,,\n"
                         "C,Edinburgh,hospital,,55.9533,-3.1883\n").encode(), "eng.csv", config=cfg)
    assert sorted(r.records["id"]) == ["A", "B"]
    assert "boundary of England" in r.rejected.iloc[0]["reason"]
    assert sv.config_for(NORTHANTS) is sv.config_for(NORTHANTS.lower())    # one object per ICB (cache keys)


def test_plan_national_one_reader_for_planner_and_register(store, real_source):
    v, notes = N.sites("cdc", NORTHANTS)
    assert len(v) == 3 and list(v.columns) == N.COLS and "Community Diagnostic Centres" in notes[0]
    gp, _ = N.sites("gp", NORTHANTS)
    reg = sv.load_register(include_user=False, icb=NORTHANTS)
    assert set(gp["id"]) == set(reg.category("gp")["id"])
    rec, path, _ = N.records("hospitals", NORTHANTS)
    assert path.name == "hospitals_nhs_website_2023_england.csv" and rec["row"].min() >= 2


def test_england_postcode_index_is_built_once_and_healed(tmp_path, monkeypatch):
    """A small England table in a temporary store: the memory-mapped index is written
    beside it, reused, rebuilt when damaged, and a stale one is removed."""
    import geo.geocode as G
    pd.DataFrame({"postcode": ["NN1 1EE", "AB1 0AA", "BB2 3HH"], "postcode_key": ["NN11EE", "AB10AA", "BB23HH"],
                  "latitude": [52.233663, 57.101474, 53.73556], "longitude": [-0.905986, -2.242851, -2.462716],
                  "easting": np.array([474811, 385386, 369574], dtype="int32"),
                  "northing": np.array([260060, 801193, 426674], dtype="int32")}).to_parquet(
        tmp_path / "postcodes_england.parquet")
    monkeypatch.setenv("LSC_STORE_DIR", str(tmp_path))
    G._england_indexed.cache_clear()
    eng = G.england_postcodes()
    idx = list(tmp_path.glob(G.INDEX_PREFIX + "*"))
    assert len(idx) == 1 and isinstance(eng.keys, np.memmap)
    assert eng.find(np.array([b"NN11EE ", b"ZZ999ZZ"], dtype="S7")).tolist()[1] == -1
    i = eng.find(np.array([b"NN11EE "], dtype="S7"))[0]
    assert eng.easting[i] == 474811 and eng.lat[i] == 52.233663
    (idx[0] / "keys.npy").write_bytes(b"not numpy")          # damaged: rebuilt on next start
    G._england_indexed.cache_clear()
    eng = G.england_postcodes()
    assert eng.find(np.array([b"AB10AA "], dtype="S7"))[0] >= 0
    stale = tmp_path / (G.INDEX_PREFIX + "1-2")
    stale.mkdir()
    import os
    os.utime(tmp_path / "postcodes_england.parquet", ns=(1, 1))  # a rebuilt table: new index, stale removed
    G._england_indexed.cache_clear()
    G.england_postcodes()
    assert [p.name for p in tmp_path.glob(G.INDEX_PREFIX + "*")] == [G.INDEX_PREFIX + f"{(tmp_path / 'postcodes_england.parquet').stat().st_size}-1"]
    G._england_indexed.cache_clear()


def test_app_shows_northamptonshire_services(store):
    from streamlit.testing.v1 import AppTest
    from geo.paths import ROOT
    from render.static_files import STATIC_DIR, URL_PREFIX
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["icb"] = NORTHANTS
    at.run()
    assert not at.exception
    labels = [c.label for c in at.checkbox]
    assert any(lab.startswith("Community Diagnostic Centres (CDCs) (3)") for lab in labels), labels
    assert not any("Alcohol Care Team" in lab for lab in labels)      # LSC's curated list is LSC's
    comps = at.get("component_instance")
    fg = json.loads(comps[0].proto.json_args)["feature_group"]
    part = json.loads(re.search(r'LSC\.set\("services",(\{.*?\})\);', fg, re.S).group(1))
    url = part["files"][0]
    data = json.loads((STATIC_DIR / url[len(URL_PREFIX) + 1:]).read_text(encoding="utf-8"))
    gp, _ = N.sites("gp", NORTHANTS)
    assert len(data["pts"]["gp"]) == len(gp) and len(data["pts"]["cdc"]) == 3
    assert set(data["pts"]) == {"gp", "hospital", "cdc"}
    assert "cdc" in part["cats"]
    # back to LSC: its categories and 8 CDCs
    at.selectbox(key="icb").set_value(LSC).run()
    assert not at.exception
    labels = [c.label for c in at.checkbox]
    assert any(lab.startswith("Community Diagnostic Centres (CDCs) (8)") for lab in labels), labels
    assert any("Alcohol Care Team" in lab for lab in labels)


def test_access_to_cdcs_in_northamptonshire_uses_its_register(store, northants, real_source):
    """The access figures read the same register: each LSOA's nearest CDC and its
    straight-line distance, checked against the staged CDC file directly."""
    from pyproj import Transformer
    from geo import access as ac
    from geo import footprint as F
    v = F.footprint(store, NORTHANTS)
    r = ac.compute_access(["cdc"], store=v, register=northants, as_of="2026-12-02")
    cdc = _csv(real_source, "community_diagnostic_centres_england.csv")
    cdc = cdc[cdc["ICB24CD"] == NORTHANTS]
    e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(cdc["longitude"].astype(float).to_numpy(),
                                                                       cdc["latitude"].astype(float).to_numpy())
    p = r.per_lsoa
    d = np.hypot(p["pwc_easting"].to_numpy()[:, None] - e[None, :], p["pwc_northing"].to_numpy()[:, None] - n[None, :])
    assert len(p) == len(v.lsoa) and len(r.sites) == 3
    assert np.allclose(p["distance_km"], d.min(axis=1) / 1000, atol=0.01)
    assert (p["nearest_site_name"].to_numpy() == cdc["name"].to_numpy()[d.argmin(axis=1)]).all()
