"""URL state in the running app (AppTest): a link's query string seeds every widget, a
tampered link shows a notice and a valid URL, widget changes are written back to the URL,
and presentation mode renders its (escaped) title bar."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import viewstate as VS

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _run(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _widget(at, key):
    for kind in (at.selectbox, at.radio, at.checkbox, at.number_input, at.toggle, at.text_input):
        for w in kind:
            if w.key == key:
                return w.value
    raise KeyError(key)


def test_link_seeds_every_widget_and_is_written_back(store):
    ward = store.wards24.loc[store.wards24["lad19cd"] == "E07000117", "wd24cd"].iloc[2]
    q = {"layers": "deprivation,priority", "measure": "crime", "vintage": "2025", "deciles": "local",
         "core20": "0", "labels": "0", "prio": "candidate", "n": "5", "rank": "imd_score", "per": "place4",
         "area": "district:E07000117", "ward": ward, "lat": "53.78901", "lon": "-2.24567", "z": "12.5",
         "title": "Burnley check"}
    at = _run(q)
    assert not at.warning, [w.value for w in at.warning]
    assert _widget(at, "deprivation_measure") == "crime"
    assert _widget(at, "deprivation_vintage") == 2025
    assert _widget(at, "deprivation_local") is True
    assert _widget(at, "deprivation_core20") is False
    assert _widget(at, "wards_on") is False
    assert _widget(at, "priority_icb") is False and _widget(at, "priority_candidate") is True
    assert _widget(at, "priority_n") == 5
    assert _widget(at, "priority_measure") == "imd_score" and _widget(at, "priority_per") == "place4"
    assert _widget(at, "area") == "district:E07000117"
    assert at.session_state["selected_ward"] == ward
    assert at.session_state["fit"]["key"] == "url:53.78901,-2.24567,12.5"
    assert _widget(at, "share_title") == "Burnley check"
    # the URL written back describes the same view
    back, notices = VS.from_query(dict(at.query_params), VS.known_from_store(store))
    want, _ = VS.from_query(q, VS.known_from_store(store))
    assert notices == []
    assert back == want


@pytest.mark.real_data
def test_widget_changes_are_written_to_the_url():
    at = _run({})
    assert dict(at.query_params)["measure"] == "imd" and dict(at.query_params)["area"] == "icb"
    at.selectbox(key="deprivation_measure").set_value("barriers").run()
    at.selectbox(key="area").set_value("place5:Morecambe Bay").run()
    q = dict(at.query_params)
    assert q["measure"] == "barriers" and q["area"] == "place5:Morecambe Bay"


def test_tampered_link_shows_notice_and_valid_url(store):
    at = _run({"measure": "<script>alert(1)</script>", "z": "-9", "lat": "54", "lon": "-2.7",
               "ward": "E05999999", "area": "place5:<b>x</b>", "n": "1e9", "zzz": "1",
               "title": "<img src=x onerror=alert(1)>", "ind": "nosuchset:thing"})
    text = "\n".join(w.value for w in at.warning)
    assert "Parts of this link could not be used" in text
    for bad in ("<script", "<img", "<b>", "onerror=alert"):
        assert bad not in text
    q = dict(at.query_params)
    assert q["measure"] == "imd" and q["area"] == "icb" and "ward" not in q and "ind" not in q
    assert q["z"] == f"{VS.ZOOM_RANGE[0]:g}" and "<" not in q.get("title", "")
    assert at.session_state["selected_ward"] is None


@pytest.mark.real_data
def test_presentation_mode_title_bar_is_escaped():
    at = _run({"present": "1", "title": "Fylde & Wyre (<draft>)"})
    bars = [m.value for m in at.markdown if "lsc-present-bar" in m.value]
    assert bars and "Fylde &amp; Wyre (draft)" in bars[-1]
    assert any("stSidebar" in m.value and "display: none" in m.value for m in at.markdown)
    assert at.session_state["share_present"] is True
    at.button(key="share_exit_present").click().run()
    assert at.session_state["share_present"] is False
    assert "present" not in dict(at.query_params)


@pytest.mark.real_data
def test_service_categories_from_link_and_back():
    at = _run({"svc": "act,hari_bus"})
    assert _widget(at, "services_cat_act") is True and _widget(at, "services_cat_hari_bus") is True
    assert _widget(at, "services_cat_gp") is False and _widget(at, "services_cat_hospital") is False
    assert dict(at.query_params)["svc"] == "act,hari_bus"
    at.checkbox(key="services_cat_gp").check().run()
    assert dict(at.query_params)["svc"] == "act,gp,hari_bus"
