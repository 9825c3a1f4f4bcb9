"""layers.map.map_component (the cached fast path) hands streamlit-folium's frontend the
same arguments st_folium would, so the base map (the component's identity) never
changes and feature groups run the same LSC calls."""
from __future__ import annotations

import re
from unittest import mock

import folium
import streamlit_folium as sf

from layers.map import map_component
from render.map import base_map, commit_group, part_group

GEO = "/app/static/gen/geo.0123456789abcdef.json"


def _groups():
    other = folium.FeatureGroup(name="other", control=False)      # a plain folium group
    folium.CircleMarker([54.0, -2.6], radius=3).add_to(other)
    extended = part_group("indicators", {"show": True})       # a part group with an extra child
    folium.CircleMarker([54.1, -2.7], radius=2).add_to(extended)
    from layers.share import script_group
    return [commit_group({"geo": GEO, "v": "1"}),
            part_group("deprivation", {"cls": [1, 2, 3], "name": "{{ 7*7 }}"}), other, extended,
            script_group(False), script_group(True)]


def _capture():
    calls = []
    with mock.patch.object(sf, "_component_func", lambda **kw: calls.append(kw)):
        sf.st_folium(base_map({}, GEO), key="map", height=640, use_container_width=True,
                     feature_group_to_add=_groups(), returned_objects=["last_clicked"])
        map_component({}, GEO, _groups(), key="map", height=640, returned_objects=["last_clicked"])
    return calls


def _norm(js: str) -> str:
    js = re.sub(r"\s+", "", js)
    return re.sub(r"(circle_marker)_[0-9a-f]{32}", r"\1", js)


def test_fast_path_matches_st_folium():
    ref, fast = _capture()
    for k in ref:
        if k in ("on_change", "feature_group"):
            continue
        assert ref[k] == fast[k], k
    assert _norm(ref["feature_group"]) == _norm(fast["feature_group"])
    assert 'LSC.set("deprivation",' in fast["feature_group"] and "{{" not in fast["feature_group"]
    assert fast["feature_group"].count("L.circleMarker(") == 2        # the extra child was not dropped
    assert len(fast["js_links"]) == 1 and fast["js_links"][0].startswith("/app/static/gen/lscmap.")


def test_static_files_index_reused_only_while_files_exist(monkeypatch):
    import uuid

    from render import static_files as sfiles
    sfiles.GEN_DIR.mkdir(parents=True, exist_ok=True)
    real = sfiles.GEN_DIR / f"test-{uuid.uuid4().hex}.json"
    real.write_text("{}")
    urls = {"geo": sfiles._url(real)}
    calls = []
    monkeypatch.setattr(sfiles, "build_static", lambda store, wt, out_dir: calls.append(wt) or urls)
    fp = f"test{uuid.uuid4().hex[:8]}"
    index = sfiles.GEN_DIR / f"index.{sfiles.GENERATOR_VERSION}.{fp}.json"
    try:
        assert sfiles.build_static_indexed(None, fp, lambda: {"t": 1}) == urls
        assert sfiles.build_static_indexed(None, fp, lambda: {"t": 1}) == urls
        assert calls == [{"t": 1}]                   # second call reused the index
        real.unlink()
        sfiles.build_static_indexed(None, fp, lambda: {"t": 2})
        assert calls == [{"t": 1}, {"t": 2}]         # a missing file means rebuild
    finally:
        real.unlink(missing_ok=True)
        index.unlink(missing_ok=True)


def test_static_files_are_reused_touched_and_pruned_when_unused(tmp_path):
    import os
    import time
    from render.static_files import write_hashed
    old = write_hashed("services", b'{"day":1}', tmp_path)
    used = write_hashed("geo", b'{"g":1}', tmp_path)
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    os.utime(used, (week_ago, week_ago))
    assert write_hashed("geo", b'{"g":1}', tmp_path) == used      # reuse marks it as used
    assert used.stat().st_mtime > week_ago
    new = write_hashed("services", b'{"day":2}', tmp_path)          # a new file prunes stale ones
    assert new.exists() and not old.exists() and used.exists()
    recent = write_hashed("services", b'{"day":3}', tmp_path)
    assert new.exists() and recent.exists()                          # used within the week: kept


def test_runtime_and_libraries_ship_as_one_script_built_from_the_vendored_files():
    """The map frame loads its scripts one after another: the runtime, Leaflet,
    topojson-client and markercluster are concatenated into one hashed file (runtime
    first: its geometry prefetch starts before the libraries evaluate) from our own file
    and the npm-installed copies; the geometry URL rides on its query string."""
    from render.map import LIB_FILES, RUNTIME_FILES, local_js, runtime_url
    from render.static_files import STATIC_DIR
    url = runtime_url()
    assert url.startswith("/app/static/gen/lscmap.") and url.endswith(".js")
    data = (STATIC_DIR / url[len("/app/static/"):]).read_bytes()
    parts = [(STATIC_DIR / rel).read_bytes() for rel in (*RUNTIME_FILES, *LIB_FILES)]
    assert data == b"\n;\n".join(parts)
    assert data.index(parts[0]) < data.index(parts[1]) < data.index(parts[2]) < data.index(parts[3])
    js = local_js("/app/static/gen/geo.abc.json")
    assert js == [("lsc_map", url + "?geo=%2Fapp%2Fstatic%2Fgen%2Fgeo.abc.json")]
    assert runtime_url() == url                   # same content, same file


def test_all_classes_file_holds_every_deprivation_view(store):
    """The instant-restyle file: every (vintage, measure, deciles) class array exactly as
    the layer sends it for that view, and each vintage's Core20 list."""
    import json
    from geo.store import MEASURES
    from layers.data import lsoa_classes
    from layers.deprivation import VINTAGES, all_classes_url
    from render.static_files import STATIC_DIR
    fp = "test-fp"
    d = json.loads((STATIC_DIR / all_classes_url(store, fp)[len("/app/static/"):]).read_text())
    assert len(d["cls"]) == len(VINTAGES) * len(MEASURES) * 2
    for v in VINTAGES:
        assert d["core20"][str(v)] == lsoa_classes(store, fp, v, "imd", False)["core20"]
        for m in MEASURES:
            for local in (False, True):
                assert d["cls"][f"{v}|{m}|{int(local)}"] == lsoa_classes(store, fp, v, m, local)["cls"]
    assert d["cls"]["2019|income|0"] == store.lsoa["income_decile"].astype(int).tolist()


def test_vendor_missing_names_the_files_then_stops_looking_once_installed(tmp_path, monkeypatch):
    """A machine without `make vendor` gets a page naming the missing files (app.py);
    once all are there, the per-rerun check costs nothing more."""
    from render import map as M
    monkeypatch.setattr(M, "STATIC_DIR", tmp_path)
    monkeypatch.setattr(M, "_VENDOR_OK", False)
    missing = M.vendor_missing()
    assert "vendor/leaflet/leaflet.js" in missing and M.RUNTIME_FILE in missing
    assert "vendor/leaflet/leaflet.css" in missing
    for rel in missing:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert M.vendor_missing() == [] and M._VENDOR_OK is True
    (tmp_path / "vendor/leaflet/leaflet.js").unlink()
    assert M.vendor_missing() == []            # not looked at again
