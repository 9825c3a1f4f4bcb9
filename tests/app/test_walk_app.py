"""What three users met, in the app (AppTest, real store): dated bus stops, the outreach
table in the area, one ward list and one denominator per screen, the screening programme
filter with shares, the access CSV's metadata, and the ward profile's services and
outreach history."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.paths import ROOT
from tests import profile as P

APP = str(ROOT / "app.py")
BLACKPOOL = "district:E06000009"
BLOOMFIELD = "E05015188"          # Blackpool ward hosting an (ILLUSTRATIVE) HARI bus stop


def _app(**session):
    at = AppTest.from_file(APP, default_timeout=240)
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def _table(at, col):
    hits = [d.value for d in at.dataframe if col in d.value.columns]
    assert hits, f"no table with column {col!r}"
    return hits[0]


@pytest.fixture(scope="module")
def blackpool_access(store):
    at = _app()
    # IoD2019 (what the walkthrough used): access and the ward table share the mid-2015
    # denominator; under IoD2025 the caption says why the two totals differ
    at.radio(key="deprivation_vintage").set_value(2019).run()
    at.selectbox(key="area").set_value(BLACKPOOL).run()
    at.checkbox(key="access_on").check().run()
    assert not at.exception
    return at


def test_access_table_lists_the_ward_tables_wards_on_its_denominator(blackpool_access, store):
    at = blackpool_access
    wards, acc = _table(at, "Ward code"), _table(at, "People beyond")
    assert sorted(wards["Ward code"]) == sorted(acc["Code"])           # same wards
    assert acc["Population"].sum() == round(wards["Population"].sum())  # same denominator
    assert acc["Core20 people"].sum() == round(wards["Core20 people"].sum())
    cap = " ".join(c.value for c in at.caption)
    assert "ONS mid-2015" in cap and "as in the ward table" in cap
    cols = list(acc.columns)
    assert cols.index("% beyond") == cols.index("People beyond") + 1
    assert acc["People beyond"].is_monotonic_decreasing


def test_whole_icb_access_table_has_277_wards_and_says_why_two_are_empty(store):
    at = _app()
    at.checkbox(key="access_on").check().run()
    wards, acc = _table(at, "Ward code"), _table(at, "People beyond")
    assert len(wards) == len(acc) == 277
    assert (acc["Note"].astype(str).str.contains("no LSOA")).sum() == 2
    assert (wards["Note"].astype(str).str.contains("no LSOA")).sum() == 2


def test_screening_programme_filter_changes_the_figures(blackpool_access):
    at = blackpool_access
    before = _table(at, "People beyond")["People beyond"].sum()
    at.multiselect(key="access_subcats").set_value(["breast_static"]).run()
    assert not at.exception
    after = _table(at, "People beyond")["People beyond"].sum()
    assert after >= before
    assert any("screening programmes: breast_static" in c.value for c in at.caption)
    at.multiselect(key="access_subcats").set_value(["breast_static", "breast_mobile", "bowel", "cervical"]).run()


def test_bus_stops_count_only_inside_the_chosen_window(store):
    at = _app()
    at.checkbox(key="access_on").check().run()
    at.multiselect(key="access_cats").set_value(["hari_bus"]).run()
    # default window = today; the shipped stops are all dated before: nothing counts as open today
    assert any("choose a wider date window" in w.value for w in at.warning)
    import datetime as dt
    at.date_input(key="access_events").set_value((dt.date(2025, 1, 1), dt.date(2025, 12, 31))).run()
    assert not at.exception
    acc = _table(at, "People beyond")
    assert acc["Population"].sum() > 0
    assert any("dated 2025-01-01 to 2025-12-31" in c.value for c in at.caption)


def test_access_csv_has_metadata_and_a_name_saying_what_it_is(blackpool_access, store):
    from layers import access as A
    from layers.base import MapContext
    ctx = MapContext(store=store, fingerprint="t")
    ctx.area = {"kind": "district", "code": "E06000009", "name": "Blackpool"}
    s = {"cats": ["act"], "threshold_km": 10.0, "threshold_min": None, "events": None}
    from geo import access as ac
    res = ac.compute_access(["act"], store=store)
    view = ac.display_table(ac.summarise(res.per_lsoa[res.per_lsoa["lad19cd"] == "E06000009"], "ward",
                                         threshold_km=10.0), "ward")
    data = A.access_csv(ctx, res, view, s, "ward")
    t = pd.read_csv(io.BytesIO(data), comment="#")
    assert list(t.columns) == list(view.columns) and len(t) == len(view)
    text = data.decode("utf-8-sig")
    for want in ("# Threshold: 10 km straight-line", "# Categories: Alcohol Care Team", "# Sites open on: ",
                 "# Population basis: IoD2019 denominator"):
        assert want in text, want
    name = A.csv_name(ctx, res, s, "ward")
    assert name.startswith("lsc_access_act_10km_Blackpool_by-ward_") and name.endswith(f"{res.as_of}.csv")


def test_outreach_table_follows_the_area_and_never_prints_none(store):
    at = _app()
    at.selectbox(key="area").set_value(BLACKPOOL).run()
    out = _table(at, "HARI stops near")
    assert set(out["District"]) == {"Blackpool"}
    assert BLOOMFIELD in set(out["code"])          # hosts a stop, not a priority ward
    assert not out["Last HARI stop"].isna().any()
    from layers.services import NO_STOP
    assert (out.loc[out.iloc[:, 4].isna(), "Last HARI stop"] == NO_STOP).all()


def test_past_bus_stop_is_visited_not_open(store):
    from layers.services import points_payload, today
    from geo import services as sv
    reg = sv.load_register(include_user=False)
    stops = reg.category("hari_bus")
    p = points_payload(stops, reg.config, "2030-01-01")
    assert all(pt[4] == 1 for pt in p["pts"]["hari_bus"])                # hollow: not open that day
    assert all("visited on 20" in pt[2] and "open on" not in pt[2] for pt in p["pts"]["hari_bus"])
    first = stops["event_date"].min()
    p = points_payload(stops, reg.config, "2024-01-01")
    assert all("planned for" in pt[2] for pt in p["pts"]["hari_bus"])
    p = points_payload(stops[stops["event_date"] == first], reg.config, first)
    assert all(pt[4] == 0 and "today" in pt[2] for pt in p["pts"]["hari_bus"])


def test_ward_profile_has_services_outreach_and_a_readable_indicator_column(store):
    at = _app()
    at.selectbox(key="ward_search").set_value(BLOOMFIELD).run()
    assert not at.exception
    body = P.profile_html(at)
    li = P.items(body)
    svc = next(m for m in li if m.startswith("GP practices:"))
    from geo import access as ac
    from geo import services as sv
    reg = sv.load_register()
    from layers.services import today
    want = ac.ward_services(store.wards24, BLOOMFIELD, reg.records, today()).set_index("category")
    assert f"{want.loc['gp', 'in_or_near']} in or within 1 km" in svc
    assert any("ACT" in m for m in li) and any(m.startswith("Screening sites:") for m in li)
    stops = ac.ward_stops(store.wards24, BLOOMFIELD, reg.category("hari_bus"), today())
    assert len(stops) >= 1
    hist = next(m for m in li if m.startswith(f"{stops['event_date'].iloc[0]} · "))
    assert "ILLUSTRATIVE HARI bus stop" in hist and "(in the ward)" in hist
    assert any("Outreach history" in m and "ILLUSTRATIVE" in m for m in P.text(body).splitlines())
    # indicators: a static table (cells wrap in the narrow column), every name and value whole
    ind = [t for t in P.tables(body) if "Indicator" in t.columns]
    assert ind, "no indicator table"
    ind = ind[0]
    from layers.indicators import ward_indicator_table
    from layers.base import MapContext
    raw = ward_indicator_table(MapContext(store=store, fingerprint="t"), BLOOMFIELD)
    assert len(ind) == len(raw)
    for name, got in zip(raw["Indicator"], ind["Indicator"]):
        assert got.startswith(name)
    le = raw[raw["Value"].notna()].iloc[0]
    row = ind.iloc[int(raw.index.get_loc(le.name))]
    assert row["Value (95% CI)"].startswith(f"{le['Value']:,.1f}")


def test_ward_without_an_lsoa_says_why_in_its_profile(store):
    from geo.report import build_table
    from geo.wardfit import NO_LSOA_NOTE
    empty = build_table(store, "ward").query("n_lsoas == 0")["code"].iloc[0]
    at = _app()
    at.radio(key="deprivation_vintage").set_value(2019).run()     # the 2011 best fit leaves it empty
    at.selectbox(key="ward_search").set_value(empty).run()
    assert not at.exception
    assert f"This ward has {NO_LSOA_NOTE}." in P.text(P.profile_html(at))
