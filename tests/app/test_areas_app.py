"""Custom areas in the app (AppTest, real store): made from picked wards and saved, the
area joins the Area filter, the link (area=custom:NAME), the map's outline (its LSOAs),
the ward table and a profile whose figures equal a direct computation; a name with
HTML/markdown is shown escaped; pasted bad codes are reported by row; a new session (a
restart) opens the saved area from the link; an unknown one gets a notice."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo import footprint as F
from geo.paths import ROOT

APP = str(ROOT / "app.py")
BLACKPOOL3 = ["E05015188", "E05015189", "E05015190"]
NAME = "Central <b>Blackpool</b> **now**"


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def _run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _commit(at) -> dict:
    [comp] = at.get("component_instance")
    fg = json.loads(comp.proto.json_args)["feature_group"]
    return json.loads(re.search(r"LSC\.commit\((\{.*?\})\);", fg, re.S).group(1))


def _frame(at, col: str, value: str):
    """The first dataframe shown with `value` in its column `col`."""
    for d in at.dataframe:
        v = d.value
        if col in v.columns and (v[col] == value).any():
            return v
    raise AssertionError(f"no table with {value!r} in {col!r}")


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def test_make_save_and_show_a_custom_area(store, user_dir):
    at = _run({"svc": "hospital,hari_bus"})          # HARI stops on: the outreach-recency table too
    at.multiselect(key="areas_wards").set_value(BLACKPOOL3)
    at.text_input(key="areas_name").set_value(NAME)
    at.button(key="areas_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ok = [s.value for s in at.success]
    assert ok and "version 1" in ok[0] and "15 LSOA 2021" in ok[0]
    key = f"custom:{NAME}"
    assert at.selectbox(key="area").value == key
    assert dict(at.query_params)["area"] == key                # the link names it
    # the map outlines its 15 LSOAs (rows of the lsoa21 object = store.lsoa25 order)
    view = F.footprint(store, "E54000048")
    a = _commit(at)["area"]
    assert a["kind"] == "lsoa21" and len(a["idx"]) == 15
    assert set(view.lsoa25["lsoa21cd"].iloc[a["idx"]]) == set(
        view.lsoa25.loc[view.lsoa25["wd24cd"].isin(BLACKPOOL3), "lsoa21cd"])
    # the ward table lists its three wards; the name is escaped wherever it is shown
    texts = _texts(at)
    shown = "Central \\<b\\>Blackpool\\</b\\> \\*\\*now\\*\\*"       # markdown-escaped: shown as typed
    assert any(f"Wards in {shown} (3)" in t for t in texts), [t for t in texts if "Wards in" in t]
    assert any(t.startswith(f"#### Custom area: {shown} · IoD2025") for t in texts)
    # (the legend is an HTML block: markdown is not read there, and its text is HTML-escaped)
    raw = [t for t in texts if ("<b>Blackpool</b>" in t or "**now**" in t) and not t.startswith('<div class="lsc-legend"')]
    assert raw == []
    # the outreach-recency table lists the area's wards only (not the whole ICB's)
    rec = [t for t in texts if t.startswith("#### Outreach recency in")]
    assert rec and rec[0].startswith(f"#### Outreach recency in {shown}")
    ot = next(d.value for d in at.dataframe if "Days since" in " ".join(map(str, d.value.columns)))
    assert len(ot) and set(ot["Ward"]) <= {"Bloomfield", "Brunswick", "Claremont"}
    # the profile's % of LSOAs in the most deprived 10% = the IoD2025 LSOA table directly
    t = F.national(store, "lsoa21")
    mine = t[t["wd24cd"].isin(BLACKPOOL3)]
    prof = _frame(at, "Area", f"Custom area: {NAME}")
    row = prof[prof["Area"] == f"Custom area: {NAME}"].iloc[0]
    assert row["% LSOAs in most deprived 10%"] == pytest.approx(100 * (mine["imd_decile"] == 1).mean())
    assert row["LSOAs"] == 15 and prof["Area"].str.startswith("ICB: ").sum() == 1
    wt = _frame(at, "Ward", "Bloomfield")
    assert sorted(wt["Ward"]) == ["Bloomfield", "Brunswick", "Claremont"]


def test_pasted_bad_codes_are_reported_and_the_rest_saved(store, user_dir):
    at = _run()
    at.radio(key="areas_how").set_value("codes").run()
    at.text_area(key="areas_codes").set_value("E05015188\n<img src=x onerror=alert(1)>\nE01012345\n")
    at.text_input(key="areas_name").set_value("Bloomfield only")
    at.button(key="areas_save").click().run()
    assert not at.exception
    warn = [w.value for w in at.warning]
    assert any("row 2" in w and "not a ward or LSOA code" in w and "\\<img" in w for w in warn), warn
    assert any("row 3" in w and "North East and North Cumbria" in w for w in warn), warn
    assert any("5 LSOA 2021" in s.value for s in at.success)
    # a name already taken with other content makes a new version; nothing kept refuses
    at.text_area(key="areas_codes").set_value("E01012345\n")
    at.button(key="areas_save").click().run()
    assert any("Not saved: no LSOA of this ICB" in e.value for e in at.error)


def test_saved_area_opens_from_a_link_in_a_new_session(store, user_dir):
    at = _run()
    at.multiselect(key="areas_wards").set_value(BLACKPOOL3[:1])
    at.text_input(key="areas_name").set_value("Bloomfield")
    at.button(key="areas_save").click().run()
    again = _run({"area": "custom:Bloomfield"})                   # a restart: a new session
    assert again.selectbox(key="area").value == "custom:Bloomfield"
    assert len(_commit(again)["area"]["idx"]) == 5
    gone = _run({"area": "custom:Not saved <here>"})
    assert gone.selectbox(key="area").value == "icb"
    notes = " ".join(w.value for w in gone.warning)
    assert "Custom area \\(a value that cannot be shown\\) is not saved for this ICB" in notes   # escaped markdown


def _uploader(at, key: str):
    for u in at.get("file_uploader"):
        if key in str(getattr(u, "key", "") or "") or key in u.proto.id:
            return u
    raise AssertionError(f"no file uploader {key}")


def test_uploaded_lists_empty_and_good(store, user_dir):
    at = _run()
    at.radio(key="areas_how").set_value("file").run()
    _uploader(at, "areas_file").set_value(("<b>empty</b>.csv", b"", "text/csv"))
    at.text_input(key="areas_name").set_value("From a file")
    at.button(key="areas_save").click().run()
    assert not at.exception
    warn = " ".join(w.value for w in at.warning)
    assert "\\<b\\>empty\\</b\\>.csv: the list is empty: no code to read" in warn, warn
    assert any("Not saved: no LSOA of this ICB" in e.value for e in at.error)
    _uploader(at, "areas_file").set_value(("wards.csv", b"ward_code\nE05015188\nE05015189\nZZZ\n", "text/csv"))
    at.button(key="areas_save").click().run()
    assert any("11 LSOA 2021" in s.value for s in at.success), [s.value for s in at.success]
    assert any("wards.csv: row 4" in w.value for w in at.warning)
    assert at.selectbox(key="area").value == "custom:From a file"


def test_standalone_html_export_outlines_and_names_the_area(store, user_dir):
    from geo import areas as A
    from geo import viewstate as VS
    from layers.export_html import standalone_html
    lsc = F.footprint(store, F.LSC_CODE)
    A.save_area(A.make_area(lsc, "Central & <west>", A.from_wards(lsc, BLACKPOOL3)))
    html = standalone_html(store, VS.ViewState(area_kind="custom", area_code="Central & <west>"))
    idx = json.loads(re.search(r'"area":\{"kind":"lsoa21","idx":(\[[0-9,]*\])', html).group(1))
    assert set(lsc.lsoa25["lsoa21cd"].iloc[idx]) == set(A.load_area("Central & <west>", F.LSC_CODE).lsoa21)
    assert len(idx) == 15
    assert "Area: Custom area: Central &amp; &lt;west&gt;" in html and "<west>" not in html
