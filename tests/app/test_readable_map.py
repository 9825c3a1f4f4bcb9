"""What the map says must match what it draws (issue #15, items 8, 9, 11, 14): the title
bar names the data that fills the map, access gaps step the deprivation fill aside and
draw their threshold, no data is hatched (never white), the Core20 outline is cased, and
the bivariate key is a 3 x 3 grid. Real data through the store; exports are built from
the URL view state exactly as `python -m geo export --format html` does."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from geo import classify as C
from geo import indicators as I
from geo import viewstate as VS
from layers.base import NODATA_FILL, LegendEntry, LegendItem

IND = "pct_bad_or_very_bad_health"
IND_QUERY = f"layers=deprivation,wards,indicators&ind=census_ward:{IND}&cls=natural_breaks&k=4"
ACC_QUERY = "layers=deprivation,wards,access&acc=screening&thr=10"


def _part(html: str, key: str) -> dict:
    m = re.search(r'LSC\.set\("' + key + r'",(\{.*?\})\);', html, re.S)
    assert m, f"no {key} part in the page"
    return json.loads(m.group(1))


def _access_payload(html: str) -> dict:
    m = re.search(r"LSC\.paint\.access\([^,]+, (\{.*?\})\);\n", html, re.S)   # render.map.GroupPaint
    assert m, "no access script in the page"
    return json.loads(m.group(1))


def _title_bar(html: str) -> str:
    i = html.index('<div id="lsc-title">')
    return html[i:html.index("</div>", i)]


def _legend(html: str) -> str:
    i = html.index('<div id="lsc-legend-panel">')
    return html[i:html.index('<div id="lsc-foot">', i)]


def _page(store, query: str):
    from layers.export_html import standalone_html
    state, notices = VS.parse_query_string(query, VS.known_from_store(store))
    assert notices == []
    return standalone_html(store, state, notes=[])


@pytest.fixture(scope="module")
def ind_html(store):
    return _page(store, IND_QUERY)


@pytest.fixture(scope="module")
def acc_html(store):
    return _page(store, ACC_QUERY)


def test_indicator_export_names_its_data_not_imd(store, ind_html):
    census = I.load_builtin("census_ward", store).prepare()
    period = census.periods(IND)[-1]
    bar = _title_bar(ind_html)
    label = census.meta[IND]["label"]
    assert re.search(r'<span class="t">[^<]*' + re.escape(label.replace("&", "&amp;")), bar), bar
    data = re.search(r'<span class="m">Data: ([^<]*)</span>', bar).group(1)
    assert data.startswith(period), data               # the indicator's period first ...
    assert "Core20 outline: IoD2025" in data           # ... then the outline's IMD vintage (the default)
    assert "Index of Multiple Deprivation" not in bar


def test_indicator_hover_file_holds_the_drawn_values(store, ind_html):
    """The ward hover reads the indicator's own values (not the IMD figures) from a file
    the export inlines; its values are the dataset's, in the drawn areas' order."""
    from render.static_files import url_path
    census = I.load_builtin("census_ward", store).prepare()
    part = _part(ind_html, "indicators")
    assert part["hover"] and part["hover"] in ind_html.split("</head>")[0]     # seeded, so no request
    hov = json.loads(url_path(part["hover"]).read_text())
    codes = store.wards19["wd19cd"].tolist()
    v = census.values(IND)
    exp = v["value"].reindex(codes)
    ok = v["status"].reindex(codes).eq("ok").to_numpy()
    got = np.array([np.nan if x is None else x for x in hov["values"]], float)
    assert len(got) == len(codes)
    assert np.isnan(got[~ok]).all()
    np.testing.assert_allclose(got[ok], exp.to_numpy(float)[ok], atol=0.5 * 10 ** -hov["dp"])
    assert hov["label"] == census.meta[IND]["label"] and hov["object"] == "wards19"
    assert hov["names"][0] == store.wards19["wd19nm"].iloc[0]


def test_no_data_is_hatched_in_map_and_legend(store, ind_html):
    part = _part(ind_html, "indicators")
    assert part["missing_style"]["fillColor"] == NODATA_FILL == "hatch"
    assert _part(ind_html, "deprivation")["nodata_color"] == "hatch"
    leg = _legend(ind_html)
    m = re.search(r'<div class="lsc-legend-item">(<svg[^>]*class="lsc-sw-hatch".*?</svg>)<span>No data \(\d+\)',
                  leg, re.S)
    assert m, "the No data row has no hatched swatch"
    assert 'fill="url(#lsc-hatch)"' in m.group(1)
    assert "#ffffff" not in m.group(1).lower()          # not white


def test_export_asks_for_no_instant_file(ind_html):
    """The instant-restyle file is for the app's controls: an export has none, and it would
    be fetched from /app/static (a file:// path that does not exist)."""
    assert _part(ind_html, "deprivation")["instant"] is None
    assert "depclasses." not in ind_html


def test_access_steps_the_deprivation_fill_aside_and_draws_the_threshold(store, acc_html):
    from geo.services import open_sites
    from layers.services import current_register, today
    dep = _part(acc_html, "deprivation")
    assert dep["fill"] is False and dep["core20_outline"] is True
    leg = _legend(acc_html)
    assert "most deprived" not in leg and "least deprived" not in leg      # no decile rows under access
    assert "Core20 LSOA" in leg and 'class="lsc-sw-cased"' in leg
    p = _access_payload(acc_html)
    sites = open_sites(current_register().records, ["screening"], today())
    sites = sites[sites["lat"].notna()]
    assert len(p["rings"]) == len(sites) > 0 and p["ring_m"] == 10_000
    np.testing.assert_allclose(sorted(map(tuple, p["rings"])), sorted(zip(sites["lat"], sites["lon"])), atol=1e-5)
    assert "Threshold: 10 km (straight-line) round each open site" in leg
    bar = _title_bar(acc_html)
    assert "Access: straight-line distance" in bar and "Core20 outline: IoD2025" in bar


def test_core20_casing_is_dark_under_orange(store, acc_html):
    dep = _part(acc_html, "deprivation")
    assert dep["core20_color"].lower() == "#ff7f00"
    # the casing contrasts with every access colour and every decile colour (one of the
    # two lines always stands out): luminance difference to orange or to the casing
    from layers import access

    def lum(h):
        r, g, b = (int(h[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    pal = access.COLOURS + store_palette()
    for c in pal:
        assert max(abs(lum(c) - lum(dep["core20_color"])), abs(lum(c) - lum(dep["core20_casing"]))) > 0.25, c


def store_palette():
    import yaml
    from geo.paths import CONFIG_DIR
    return yaml.safe_load((CONFIG_DIR / "layers.yaml").read_text())["deprivation"]["palette"]


def test_bivariate_key_is_a_3x3_grid(store):
    """Rows = Core20 level (top = 50%+), columns = indicator tertile (left = best), each
    cell the map's colour and its count; the HTML legend draws it as a 3 x 3 table."""
    from layers import indicators as L
    from layers.panels import legend_html
    from layers.share import export_context
    state, _ = VS.parse_query_string(IND_QUERY, VS.known_from_store(store))
    ctx, _layers = export_context(store, state)
    s = ctx.state["indicators"]
    s.update(mode="bivariate", method="quantiles", k=3, scheme="sequential", palette=None)
    [entry] = L.LAYER.legend(ctx)
    g = entry.grid
    assert g is not None
    assert g["colors"] == [C.BIVARIATE[2], C.BIVARIATE[1], C.BIVARIATE[0]]
    assert g["rows"] == [C.CORE20_LEVELS[2], C.CORE20_LEVELS[1], C.CORE20_LEVELS[0]]
    c = L.LAYER._result(ctx)
    cls = np.array(c["cls"])
    assert g["counts"][0][2] == int((cls == 8).sum()) and g["counts"][2][0] == int((cls == 0).sum())
    assert sum(map(sum, g["counts"])) == int((cls >= 0).sum())
    assert not any("third" in it.label for it in entry.items)       # no longer nine rows
    html = legend_html([entry])
    cells = re.findall(r'<td class="cell" style="background:(#[0-9a-f]{6})"', html)
    assert cells == [col for row in g["colors"] for col in row]
    assert html.count("<tr>") == 4                                   # 3 rows + the column labels


def test_legend_swatches():
    from layers.panels import legend_html
    html = legend_html([LegendEntry("t", [LegendItem("No data (3)", fill="#e6e6e6", hatch=True),
                                          LegendItem("Core20", stroke="#ff7f00", stroke_width=2, casing="#1a1a1a")])])
    assert 'class="lsc-sw-hatch"' in html and '<pattern id="lsc-hatch"' in html
    cased = re.search(r'class="lsc-sw-cased">(.*?)</svg>', html).group(1)
    assert cased.index('stroke="#1a1a1a"') < cased.index('stroke="#ff7f00"')     # casing drawn first (under)
