"""The browser contract: the sidebar controls the map runtime reads, by Streamlit widget key.

The instant restyle (static/js/lsc_core.js `controlValue`) reads a few sidebar controls
from the map frame to repaint before the rerun. It finds each one by its widget key, not
by its visible label: Streamlit renders the container of every widget that has a `key`
with the CSS class `st-key-<key>` (`key_class`), so relabelling a control cannot break it.
A layer's payload names the controls it reads by these keys (`instant.names`,
`instant.controls`, `instant.guards`); the widgets are created with the same keys.
tests/app/test_browser_contract.py fails if the widgets, the payloads, this map and the JS
drift apart.
"""
from __future__ import annotations

import re

# layer -> {control id: widget key}
DEPRIVATION = {"vintage": "deprivation_vintage", "measure": "deprivation_measure", "deciles": "deprivation_local"}
INDICATORS = {"dataset": "indicators_dataset", "ward_vintage": "indicators_ward_vintage", "by": "indicators_by",
              "indicator": "indicators_indicator", "classes": "indicators_method"}
CONTROLS = {"deprivation": DEPRIVATION, "indicators": INDICATORS}


def key_class(key: str) -> str:
    """The CSS class Streamlit gives a keyed widget's container (its frontend: "st-key-" +
    the key trimmed, each character other than a-z A-Z 0-9 _ - replaced by "-")."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def all_keys() -> set[str]:
    return {k for layer in CONTROLS.values() for k in layer.values()}
