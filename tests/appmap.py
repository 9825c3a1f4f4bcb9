"""What app.py hands to the map component, read from an AppTest run (shared by the app tests)."""
from __future__ import annotations

import json
import re


def map_args(at) -> dict:
    """The one map component's arguments (base map script, feature groups, links...)."""
    comps = at.get("component_instance")
    assert len(comps) == 1, "expected exactly one map component"
    return json.loads(comps[0].proto.json_args)


def set_payload(fg_js: str, part: str) -> dict:
    """The payload of `LSC.set(part, ...)` in the feature-group script."""
    m = re.search(r'LSC\.set\("%s",(\{.*?\})\);' % part, fg_js, re.S)
    assert m, f"no LSC.set for {part}"
    return json.loads(m.group(1))
