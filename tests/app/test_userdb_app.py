"""Issue #15 item 1 in the app (AppTest, no browser): an upload taken out of the box
leaves the map and the legend counts; "Clear uploaded files" empties the box; Save
writes to the user-data store once (a second click or a re-upload saves no duplicate
and never shows the rows twice); Remove takes a saved file's rows off the map and out
of the counts, Restore brings them back."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo import userdb
from geo.paths import ROOT
from render.static_files import STATIC_DIR, URL_PREFIX

APP = str(ROOT / "app.py")
CSV = ("id,name,category,postcode\n"
       "UDB-1,Userdb test site one,hospital,PR2 9HT\n"
       "UDB-2,Userdb test site two,hospital,FY3 8NR\n"
       "UDB-3,,hospital,FY3 8NR\n").encode()


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def _app():
    at = AppTest.from_file(APP, default_timeout=240)
    return at.run()


def _hospitals_shown(at) -> int:
    found = [int(m.group(1)) for md in at.markdown if (m := re.search(r"NHS hospital sites: (\d+) shown", md.value))]
    assert found, "no hospital legend line"
    return found[0]


def _hospitals_counted(at) -> int:
    """The count in the sidebar's category checkbox label, e.g. "NHS hospital sites (23)"."""
    return int(re.search(r"\((\d+)\)", at.checkbox(key="services_cat_hospital").label).group(1))


def _points_named(at, needle: str) -> int:
    """How many points on the map (all services files this run draws) carry `needle`."""
    comps = at.get("component_instance")
    fg = json.loads(comps[0].proto.json_args)["feature_group"]
    part = json.loads(re.search(r'LSC\.set\("services",(\{.*?\})\);', fg, re.S).group(1))
    n = 0
    for url in part["files"]:
        data = json.loads((STATIC_DIR / url[len(URL_PREFIX) + 1:]).read_text(encoding="utf-8"))
        n += sum(needle in p[3] for pts in data["pts"].values() for p in pts)
    return n


def _box(at):
    [box] = at.get("file_uploader")
    return box


def _buttons(at) -> dict:
    return {b.key: b for b in at.button}


def test_upload_taken_out_of_the_box_leaves_the_map_and_counts(store, user_dir):
    at = _app()
    assert not at.exception
    base, counted = _hospitals_shown(at), _hospitals_counted(at)
    _box(at).set_value(("my sites.csv", CSV, "text/csv"))
    at.run()
    assert not at.exception
    assert _hospitals_shown(at) == base + 2 and _points_named(at, "Userdb test site") == 2
    assert _hospitals_counted(at) == counted + 2
    _box(at).set_value(None)            # the person clicks the x on the file
    at.run()
    assert _hospitals_shown(at) == base and _points_named(at, "Userdb test site") == 0
    assert _hospitals_counted(at) == counted
    # clearing: the button empties the box and takes the rows off
    _box(at).set_value(("my sites.csv", CSV, "text/csv"))
    at.run()
    assert _hospitals_shown(at) == base + 2
    _buttons(at)["services_clear_uploads"].click()
    at.run()
    assert not at.exception
    assert _hospitals_shown(at) == base and _points_named(at, "Userdb test site") == 0
    assert "services_clear_uploads" not in _buttons(at)
    assert userdb.open_store().list("services") == []           # nothing was saved


def test_save_once_then_remove_and_restore(store, user_dir):
    at = _app()
    base = _hospitals_shown(at)
    _box(at).set_value(("my sites.csv", CSV, "text/csv"))
    at.run()
    _buttons(at)["services_save"].click()
    at.run()
    assert not at.exception
    assert any("Saved" in s.value and "version 1" in s.value for s in at.success)
    db = userdb.open_store()
    [e] = db.list("services")
    assert (e.name, e.version, e.rows) == ("my sites.csv", 1, 2)
    # the rows now come from the store: shown once, and no Save is offered again
    assert _hospitals_shown(at) == base + 2 and _points_named(at, "Userdb test site") == 2
    assert "services_save" not in _buttons(at)
    from layers.services import current_register          # the access layer's sites
    from layers.base import new_run
    new_run()       # as a rerun does: the per-run memos (services fingerprint) start afresh
    assert {"UDB-1", "UDB-2"} <= set(current_register().records["id"])
    at.checkbox(key="services_closed").check().run()             # any later click
    assert "services_save" not in _buttons(at) and _hospitals_shown(at) == base + 2
    assert len(db.history("services", "my sites.csv")) == 1
    # the same file in a new session: recognised as saved, not drawn twice, not saved again
    at2 = _app()
    _box(at2).set_value(("my sites.csv", CSV, "text/csv"))
    at2.run()
    assert any("already saved" in s.value for s in at2.success)
    assert "services_save" not in _buttons(at2) and _points_named(at2, "Userdb test site") == 2
    assert len(db.history("services", "my sites.csv")) == 1
    # Remove: off the map and out of the counts at once
    [rm] = [b for k, b in _buttons(at2).items() if k.startswith("services_remove_")]
    rm.click()
    at2.run()
    assert not at2.exception
    assert _hospitals_shown(at2) == base and _points_named(at2, "Userdb test site") == 0
    assert _hospitals_counted(at2) == _hospitals_counted(_app())
    assert db.list("services") == [] and db.list("services", removed=True)[0].removed
    from layers.services import current_register          # what the access layer counts
    from layers.base import new_run
    new_run()       # as a rerun does: the per-run memos (services fingerprint) start afresh
    assert not {"UDB-1", "UDB-2"} & set(current_register().records["id"])
    [rs] = [b for k, b in _buttons(at2).items() if k.startswith("services_restore_")]
    rs.click()
    at2.run()
    assert _hospitals_shown(at2) == base + 2 and _points_named(at2, "Userdb test site") == 2
