"""User text in messages, legends and tables shows literally: no markdown, HTML, image
fetch or formula gets through (issue #13 item 4, issue #15 item 15). Rendering is checked
with a CommonMark parser (markdown-it-py, the same spec Streamlit's renderer follows)."""
from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from geo import services as sv
from geo.paths import ROOT
from layers.base import LegendEntry, LegendItem, md
from layers.panels import legend_html

APP = str(ROOT / "app.py")
HOSTILE_NAME = "**x**<img src=http://e/x.png>\n\n# h"
HOSTILE = [HOSTILE_NAME, "![](http://e/y.png)", "[click](javascript:alert(1))", ":red[alarm] :material/home:",
           "$\\frac{1}{0}$", "1. list\n- item", "`code` ~~gone~~ | a | b |", "<script>alert(1)</script>",
           "a\u2028b\rc", "http://e/auto.png"]
MDI = MarkdownIt("commonmark").enable("strikethrough").enable("table")


def _text(html: str) -> str:
    from html import unescape
    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_md_renders_as_the_literal_text_on_one_line(text):
    html = MDI.render(md(text))
    assert html.startswith("<p>") and html.count("<p>") == 1
    assert not re.search(r"<(img|h\d|strong|em|a|script|code|ol|ul|li|table|del)\b", html)
    assert _text(html) == re.sub(r"[\r\n\u2028\u2029]+", " ", text).strip()


def test_legend_html_stays_one_html_block():
    e = LegendEntry(HOSTILE_NAME, [LegendItem("label\n\n![](http://e/z.png)", fill="#fff")],
                    vintage="v\n\n# heading", source="s", note="n\r\n\r\n**bold**")
    html = legend_html([e])
    assert "\n" not in html and "\r" not in html
    out = MarkdownIt("commonmark").render(html)      # html allowed, as unsafe_allow_html=True
    assert "<img" not in out.replace("&lt;img", "") and "<h1" not in out and "<strong>bold" not in out


def _hostile_result():
    csv = ("id,name,category,postcode\nA,Royal Preston,hospital,PR2 9HT\n"
           "B,=HYPERLINK(\"http://e\"),hospital,ZZ99 9ZZ\nC,**bold**,nowhere,PR2 9HT\n")
    return sv.import_bytes(csv.encode(), HOSTILE_NAME + ".csv")


def test_upload_report_shows_the_file_name_literally_and_neutralised_rows(store):
    res = _hostile_result()
    assert res.ok and len(res.records) == 1 and len(res.rejected) == 2
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["services_uploads"] = {"d1": res}
    at.session_state["services_upload_report"] = "d1"
    at.run()
    assert not at.exception
    exp = [e for e in at.expander if e.label.startswith("Upload report")]
    assert len(exp) == 1
    label = exp[0].label
    html = MDI.render(label)
    assert "<img" not in html and "<strong" not in html and "<h1" not in html and "\n" not in label
    assert "**x**<img src=http://e/x.png> # h.csv" in _text(html)
    tables = [d.value for d in exp[0].dataframe]
    rej = tables[0]
    assert list(rej.columns) == ["Row", "Field", "Reason", "id", "Name"]
    assert rej["Name"].tolist() == ["'=HYPERLINK(\"http://e\")", "**bold**"]
    assert set(rej["Field"]) == {"postcode", "category"}
    # the CSV offered with it is neutralised too
    dl = [b for b in at.get("download_button") if "rejected" in str(b.proto.label).lower()]
    assert dl


def test_a_trimmed_link_shows_its_notice(store):
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["measure"] = "income"
    at.query_params["trimmed"] = "120000.1501"
    at.run()
    assert not at.exception
    assert at.selectbox(key="deprivation_measure").value == "income"
    warns = [_text(MDI.render(w.value)) for w in at.warning]
    assert any("The link was too long" in w and "1,501" in w for w in warns), warns


@pytest.mark.parametrize("text", HOSTILE)
def test_ward_profile_html_shows_hostile_text_literally(store, text):
    """The profile is one st.html element (layers/panels.py): a ward, place or district
    name and every table cell reach it escaped, so no tag is made from them."""
    import geo.viewstate  # noqa: F401  (first: the layers register their view fields in it)
    import layers.indicators  # noqa: F401  (registers the providers the profile needs)
    import layers.services  # noqa: F401
    from layers.base import MapContext
    from layers.panels import html_table, profile_html
    from tests import profile as P
    code = store.wards24["wd24cd"].iloc[0]
    r = store.wards24.iloc[0].copy()
    r["wd24nm"], r["lad19nm"], r["place4"] = text, text, text
    mine = store.lsoa25[store.lsoa25["wd24cd"] == code]
    body = profile_html(MapContext(store=store, fingerprint="t", config={}), code, {code: ["icb"]}, 2025, r, mine)
    assert not re.search(r"<(img|script|a|h1|h2|ol)\b", body)
    assert P.headings(body) == [text]
    t = P.text(body)
    assert text in t and f"Ward: {text}" in P.tables(body)[0]["Area"].tolist()
    cell = P.tables(html_table(["a", "b"], [[text, None]]))[0]
    assert cell.iloc[0].tolist() == [text, "n/a"]
