"""Text made safe for the pages the app and the exports draw: HTML escaping and JSON for
map scripts. Pure Python; layers/ re-exports both through layers.base."""
from __future__ import annotations

import html
import json
import re
from typing import Any

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def js_json(obj: Any) -> str:
    """JSON to embed in a map script: safe inside <script> and inert to Jinja.

    branca re-compiles every rendered element script as a Jinja template when a whole
    figure is rendered (the standalone HTML export, folium's own render), so text such as
    `{{ ... }}` in an uploaded name would be EXECUTED on the server. Braces inside JSON
    strings are therefore written as \\u007b / \\u007d (JS decodes them back); outside
    strings compact JSON never contains `{{`, `{%` or `{#`.
    """
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    text = _JSON_STRING.sub(lambda m: m.group(0).replace("{", "\\u007b").replace("}", "\\u007d"), text)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def esc(value: Any) -> str:
    """HTML-escape any value for tooltips/popups/labels (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)
