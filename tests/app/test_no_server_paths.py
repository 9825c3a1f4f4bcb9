"""No server path ever reaches a page (issue #15, item 13), and presentation mode (which
hides the sidebar) never points people at "the sidebar". AppTest renders the page in
several states (indicators on with the code-vintage report open, access gaps, services,
presentation mode, an uploaded indicator file) and scans the text of every element for the
repo path, the data folder, the store and temp folders."""
from __future__ import annotations

import tempfile

import pytest
from streamlit.testing.v1 import AppTest

from geo.paths import ROOT, source_dir, store_dir

APP = str(ROOT / "app.py")
IND = "pct_bad_or_very_bad_health"


def _paths() -> list[str]:
    out = {str(ROOT), str(source_dir()), str(store_dir()), tempfile.gettempdir().rstrip("/") + "/", "/tmp/"}
    return sorted(out)


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for ch in children.values():
            yield from _walk(ch)


def _texts(at, where: str = "all") -> list[tuple[str, str]]:
    """(element type, its protobuf text) of every element drawn, except the map component
    (its args hold /app/static URLs, not paths) and the copy-link frame."""
    roots = {"main": [at.main], "sidebar": [at.sidebar], "all": [at.main, at.sidebar]}[where]
    out = []
    for root in roots:
        for node in _walk(root):
            proto = getattr(node, "proto", None)
            if proto is None or getattr(node, "type", "") in ("component_instance", "iframe"):
                continue
            out.append((getattr(node, "type", type(node).__name__), str(proto)))
    return out


def _run(query: dict | None = None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in (query or {}).items():       # a link's view (e.g. present=1) is read from the URL
        at.query_params[k] = v
    for k, v in session.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _assert_no_paths(at):
    bad = [(t, p, text[max(0, text.find(p) - 80):text.find(p) + 120]) for t, text in _texts(at)
           for p in _paths() if p in text]
    assert not bad, bad[:3]


def test_scan_sees_paths_when_there_are_some(store):
    """The scan itself: a caption holding the repo path is found."""
    at = _run()
    at.main.caption  # noqa: B018 - the tree is built
    texts = _texts(at)
    assert texts and not any(str(ROOT) in t for _, t in texts)
    from streamlit.proto.Markdown_pb2 import Markdown
    m = Markdown(body=f"see {ROOT}/config/sources.yaml")
    assert any(p in str(m) for p in _paths())


def test_indicator_report_shows_file_names_not_server_paths(store):
    at = _run(indicators_on=True, indicators_dataset="census_ward")   # rows unmatched: the report opens
    report = [e for e in at.sidebar.expander if "Code-vintage report" in e.label]
    assert report, "the code-vintage report is not drawn"
    body = " ".join(t.value for t in at.sidebar.text)
    assert "ward" in body.lower() and "layout" in body          # the report is there (open: rows unmatched)
    _assert_no_paths(at)


@pytest.mark.parametrize("session", [
    {},
    {"access_on": True, "services_on": True},
    {"query": {"present": "1", "layers": "deprivation,wards,indicators"}},
], ids=["default", "access+services", "present+indicators"])
def test_no_server_path_on_the_page(store, session):
    _assert_no_paths(_run(**session))


def test_presentation_mode_never_mentions_the_sidebar(store):
    at = _run({"present": "1", "layers": "deprivation,wards,indicators", "ind": f"census_ward:{IND}"})
    assert at.session_state["share_present"] is True
    import re
    # the word, as people read it (the CSS that hides it names data-testid="stSidebar")
    main = [(t, text) for t, text in _texts(at, "main")
            if re.search(r"\bsidebar\b", re.sub(r"<style>.*?</style>", "", text, flags=re.S), re.I)]
    assert not main, main[:3]
    # and the attribution stays on screen: a strip fixed under the map (the caption falls below the fold)
    bar = [m.value for m in at.main.markdown if 'data-testid="lsc-present-bar"' in m.value]
    assert bar and 'class="lsc-present-attr"' in bar[0] and "Royal Mail" in bar[0] and "OS data" in bar[0]
    assert "Data: Census 2021" in bar[0]                   # the indicator's data, not "IoD2019"


def test_uploaded_file_errors_name_the_file_not_its_temp_copy(store):
    """An upload is matched from a temp copy: its errors and report name the upload."""
    from layers import indicators_data as L
    from geo.errors import GeoError
    bad = b"this is not, an indicator file\n1,2\n"
    with pytest.raises(GeoError) as e:
        L._uploaded.__wrapped__(store, "fp", "d1", "my_export.csv", bad, None) if hasattr(
            L._uploaded, "__wrapped__") else L._uploaded(store, "fp", "d1", "my_export.csv", bad, None)
    msg = str(e.value)
    assert "my_export.csv" in msg
    assert not any(p in msg for p in _paths()), msg
