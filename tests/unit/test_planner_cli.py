"""`python -m geo plan` and the planner's inputs on the real store."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from geo import plan_inputs as pi
from geo import planner as pl
from geo.paths import ROOT


def _cli(*args, timeout=180):
    r = subprocess.run([sys.executable, "-m", "geo", "plan", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope="module")
def blackpool(store):
    rc, out, err = _cli("--place", "Blackpool", "--stops", "3", "--radius-km", "1.5", "--weight", "core20")
    assert rc == 0, err
    return json.loads(out)


def test_cli_contract_blackpool(blackpool, store):
    doc = blackpool
    for key in ("radius_km", "weight", "total_weight", "covered_weight", "optimal", "gap", "stops", "demand"):
        assert key in doc
    assert doc["radius_km"] == 1.5 and doc["weight"] == "core20" and doc["optimal"] is True
    assert doc["gap"] == pytest.approx(0.0, abs=1e-6)
    assert len(doc["stops"]) == 3
    for s in doc["stops"]:
        assert set(s) == {"id", "name", "lat", "lon", "marginal_weight"}
        assert 53.7 < s["lat"] < 53.9 and -3.1 < s["lon"] < -2.9          # Blackpool
    gains = [s["marginal_weight"] for s in doc["stops"]]
    assert gains == sorted(gains, reverse=True)
    assert sum(gains) == pytest.approx(doc["covered_weight"])
    # demand = Blackpool's Core20 LSOAs 2021 (IoD2025, the default) with Census 2021 populations
    assert doc["vintage"] == 2025
    lsoa = store.lsoa25[(store.lsoa25["lad19cd"] == "E06000009") & (store.lsoa25["imd_decile"] <= 2)]
    dem = pd.DataFrame(doc["demand"])
    assert set(dem.columns) == {"code", "lat", "lon", "weight"}
    assert set(dem["code"]) == set(lsoa["lsoa21cd"])
    assert dem.set_index("code")["weight"].to_dict() == lsoa.set_index("lsoa21cd")["pop2021"].astype(float).to_dict()
    assert doc["total_weight"] == pytest.approx(lsoa["pop2021"].sum())
    # the reported coverage is the recomputed coverage of the stops
    xy = np.array(pl_xy(doc["stops"]))
    dxy = np.array(pl_xy(doc["demand"]))
    d = np.hypot(dxy[:, None, 0] - xy[None, :, 0], dxy[:, None, 1] - xy[None, :, 1]).min(axis=1)
    assert dem["weight"][d <= 1500 + 1].sum() == pytest.approx(doc["covered_weight"], abs=1)
    assert doc["greedy_covered_weight"] <= doc["covered_weight"]


def pl_xy(rows):
    from geo.geocode import lonlat_to_bng
    e, n = lonlat_to_bng([r["lon"] for r in rows], [r["lat"] for r in rows])
    return list(zip(np.atleast_1d(e), np.atleast_1d(n)))


def test_cli_csv_and_existing(store):
    rc, out, err = _cli("--place", "Blackpool", "--stops", "2", "--radius-km", "1", "--weight", "population",
                        "--candidates", "postcodes", "--existing", "hospital", "--format", "csv")
    assert rc == 0, err
    t = pd.read_csv(io.StringIO(out))
    assert list(t.columns[:6]) == ["order", "id", "name", "lat", "lon", "marginal_weight"]
    assert len(t) == 2 and t["id"].str.match(r"^FY\d").all()
    assert "existing site(s) already cover" in err


@pytest.mark.parametrize("args, needle", [
    (["--stops", "0", "--radius-km", "1"], "--stops: must be at least 1"),
    (["--stops", "99", "--radius-km", "1"], "only 17 candidate"),
    (["--stops", "2", "--radius-km", "0"], "positive"),
    (["--stops", "2", "--radius-km", "80"], "beyond reason"),
    (["--stops", "2", "--minutes", "10"], "needs --travel-times"),
    (["--stops", "2", "--radius-km", "1", "--weight", "nosuch"], "neither core20"),
    (["--stops", "2", "--radius-km", "1", "--candidates", "nosuch.csv"], "neither gp"),
    (["--stops", "2", "--radius-km", "1", "--existing", "pubs"], "--existing 'pubs' is not valid"),
    (["--stops", "2", "--radius-km", "1", "--icb", "E54000059"], "not valid in NHS Northamptonshire ICB"),
    (["--stops", "2", "--radius-km", "1", "--icb", "XYZ"], "unknown ICB 'XYZ'; closest:"),
    (["--stops", "2", "--radius-km", "1", "--icb", "England"], "unknown ICB 'England'"),
    (["--stops", "2", "--radius-km", "1", "--format", "xml"], "--format"),
])
def test_cli_bad_input_one_line(store, args, needle):
    rc, out, err = _cli("--place", "Blackpool", *args)
    assert rc == 2 and needle in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_cli_icb_name_accepted(store):
    rc, out, err = _cli("--icb", "E54000048", "--place", "Blackpool", "--stops", "1", "--radius-km", "1")
    assert rc == 0, err


def test_weights_file_problems_and_choice(store, tmp_path):
    bp = pi.demand_points(store, pi.resolve_area(store, "Blackpool"), 2019)   # a register on 2011 codes
    # the team's register puts everyone in one non-Core20 LSOA far from the Core20 centre
    far = bp[~bp["core20"]].sort_values("northing").iloc[-1]["code"]
    o = [c for c in bp["code"] if c != far][:3]
    f = tmp_path / "smi register.csv"
    f.write_text("lsoa11cd,count\n"
                 f"{far},500\n"
                 "E01999999,5\n"          # unknown
                 f"{o[0]},-3\n"           # negative
                 f"{o[1]},NaN\n"          # NaN
                 f"{o[2]},lots\n"         # not a number
                 f"{far},7\n"              # duplicate
                 "E01034069,4\n")          # an LSOA 2021 code
    rc, out, err = _cli("--place", "Blackpool", "--stops", "1", "--radius-km", "1", "--weight", str(f),
                        "--vintage", "2019")
    assert rc == 0, err
    lines = {int(ln.split("row ")[1].split(":")[0]): ln for ln in err.splitlines() if ", row " in ln}
    for row, needle in [(3, "unknown LSOA code 'E01999999'"), (4, "negative count"), (5, "NaN"),
                        (6, "not a number"), (7, "duplicate"), (8, "other LSOA vintage")]:
        assert lines[row].startswith(f"smi register.csv, row {row}: ") and needle in lines[row], err
    doc = json.loads(out)
    assert doc["weight"] == "file:smi register.csv" and doc["covered_weight"] == 500
    assert [d["code"] for d in doc["demand"]] == [far]
    core = _cli("--place", "Blackpool", "--stops", "1", "--radius-km", "1")
    assert json.loads(core[1])["stops"][0]["id"] != doc["stops"][0]["id"]


def test_hostile_venues_file(store, tmp_path):
    f = tmp_path / "venues.csv"
    f.write_text("id,name,postcode,lat,lon\n"
                 "V1,Central Library,FY1 1PX,,\n"
                 "V2,<script>alert(1)</script> Hall,,53.81,-3.05\n"
                 "V3,Swapped,,-3.05,53.81\n"
                 "V4,Nowhere,ZZ9 9ZZ,,\n"
                 "V5,At sea,,53.8,-3.6\n"
                 "V1,Duplicate,FY1 1PX,,\n"
                 ",,,,\n"
                 "V6,=HYPERLINK(\"x\"),FY1 5EH,,\n")
    rc, out, err = _cli("--place", "Blackpool", "--stops", "2", "--radius-km", "1", "--candidates", str(f))
    assert rc == 0, err
    for row, needle in [(4, "swapped"), (5, "unknown postcode"), (6, "outside the footprint"), (7, "duplicate id")]:
        assert f"venues.csv, row {row}: " in err and needle in err, err
    assert "venues.csv, row 3: warning: name contains HTML" in err and "(row used)" in err
    doc = json.loads(out)
    assert {s["id"] for s in doc["stops"]} <= {"V1", "V2", "V6"}
    assert "3 venue(s) accepted" in " ".join(doc["notes"])


def test_core20_2025_vintage_denominator(store):
    a = pi.resolve_area(store, "Blackpool")
    d = pi.build_demand(store, a, "core20", vintage=2025)
    l25 = store.lsoa25[(store.lsoa25["lad19cd"] == "E06000009") & (store.lsoa25["imd_decile"] <= 2)]
    assert d.denominator == "Census 2021 usual residents"
    assert d.points["weight"].sum() == pytest.approx(l25["pop2021"].sum())
    assert d.points["code"].str.startswith("E01").all()


def test_priority_weight_uses_the_highlighted_wards(store):
    codes, label = pi.priority_wards(store)
    assert "derived candidates" in label and len(codes) > 0
    d = pi.build_demand(store, pi.resolve_area(store, None), "priority")
    inside = d.points["wd24cd"].isin(codes)
    assert (d.points.loc[~inside, "weight"] == 0).all()
    assert d.points.loc[inside, "weight"].sum() == pytest.approx(d.points.loc[inside, "population"].sum())


def test_postcode_candidates_thinned(store):
    a = pi.resolve_area(store, "Blackpool")
    c500 = pi.postcode_candidates(store, a, 500).venues
    c1000 = pi.postcode_candidates(store, a, 1000).venues
    assert len(c1000) < len(c500) < (store.postcodes["lad19cd"] == "E06000009").sum()
    cells = set(zip((c500["easting"] // 500).astype(int), (c500["northing"] // 500).astype(int)))
    assert len(cells) == len(c500)                         # one venue per grid cell
    assert c500["id"].isin(set(store.postcodes["postcode"])).all()


def test_plan_schedule_round_trips_through_the_services_validator(store):
    from geo.csvsafe import safe_csv_bytes
    from geo.services import import_bytes
    a = pi.resolve_area(store, "Blackpool")
    d = pi.build_demand(store, a, "core20")
    c = pi.register_candidates(store, a, "gp")
    r = pl.plan(d.points, c.venues, 3, radius_km=1.5)
    sched = pl.schedule_frame(r, "2026-01-05", per_week=2)
    assert list(sched.columns) == list(pd.read_csv(ROOT / "data/templates/hari_bus_template.csv").columns)
    assert list(sched["event_date"]) == ["2026-01-05", "2026-01-08", "2026-01-12"]
    res = import_bytes(safe_csv_bytes(sched), "plan.csv")
    assert res.ok and len(res.rejected) == 0, res.rejected
    assert list(res.records["id"]) == list(sched["id"])
    assert (res.records["category"] == "hari_bus").all()
    assert list(res.records["event_date"]) == list(sched["event_date"])
    assert np.allclose(res.records["lat"].astype(float), sched["lat"]) and \
        np.allclose(res.records["lon"].astype(float), sched["lon"])
