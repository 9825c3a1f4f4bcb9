"""User text inside map payloads must never be evaluated as a Jinja template.

branca re-compiles each rendered element script as a template when a whole figure is
rendered (standalone HTML export), so `{{ ... }}` in an uploaded name would run on the
server unless the payload is made inert."""
import json
import re

import folium
import pytest

from layers.base import js_json

HOSTILE = ["{{ 7*7 }}", "{% if 1 %}IF{% endif %}", "{# gone #}", "{{ cycler.__init__.__globals__ }}",
           "</script><script>alert(1)</script>", "a\u2028b", "{{{{x}}}}", '"{{"}}"']


@pytest.mark.parametrize("text", HOSTILE)
def test_js_json_round_trips_and_is_inert(text):
    payload = {"name": text, "nested": [{"k": text}], "n": 3}
    out = js_json(payload)
    assert json.loads(out) == payload
    assert "{{" not in out and "{%" not in out and "{#" not in out
    assert "</script" not in out.lower()


def _render(element) -> str:
    fg = folium.FeatureGroup(name="t")
    element.add_to(fg)
    m = folium.Map(tiles=None)
    fg.add_to(m)
    return m.get_root().render()


def test_services_payload_not_templated_in_full_render():
    """Services reach the map as static point files (popups inside) plus a tiny part; both
    are js_json text, so a full branca render (the HTML export) leaves them as they are."""
    import pandas as pd

    from render.map import part_group
    from layers.services import points_payload
    from geo import services as sv
    cfg = sv.load_config()
    rec = pd.DataFrame([{"id": "{{ 7*7 }}", "name": "{{ 7*7 }}", "category": "hospital", "lat": 53.8,
                         "lon": -2.7, "status": "open", "opened": None, "closed": None, "illustrative": False}])
    data = js_json(points_payload(rec, cfg, "2025-01-01"))
    assert "{{" not in data and "{%" not in data
    pts = json.loads(data)["pts"]["hospital"]
    assert "{{ 7*7 }}" in pts[0][2] and pts[0][3] == "{{ 7*7 }}"
    from render.export_html import _full_render      # what the HTML export renders
    m = folium.Map(tiles=None)
    part_group("services", {"show": True, "files": ["/app/static/gen/services.x.json"],
                            "cats": ["{{ 7*7 }}"], "closed": False}).add_to(m)
    html = _full_render(m)
    got = re.search(r'LSC\.set\("services",(\{.*?\})\);', html).group(1)
    assert json.loads(got)["cats"] == ["{{ 7*7 }}"]
    assert '"49"' not in html


def test_access_payload_not_templated_in_full_render():
    from layers.access import _AccessScript
    import inspect
    sig = inspect.signature(_AccessScript.__init__)
    el = _AccessScript({"label": "{{ 6*7 }}"}) if len(sig.parameters) == 2 else None
    assert el is not None, "constructor changed: update this test"
    html = _render(el)
    assert "42" not in re.search(r"LSC\.paint\.access\(\w+, (.*?)\);\n", html).group(1)


def test_map_call_payload_not_templated():
    from render.map import _Call
    el = _Call("set", "wards", {"names": ["{{ 5*5 }}"]})
    assert "{{" not in el.args
    script = el._template.module.script(el)
    from jinja2 import Template
    assert "25" not in Template(str(script)).render()  # what branca would do with it
    assert json.loads(el.args.split(",", 1)[1])["names"] == ["{{ 5*5 }}"]
