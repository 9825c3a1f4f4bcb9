"""Streamlit panels around the map: legend, attribution, ward profile, ward table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.csvsafe import safe_csv_bytes
from layers.base import NODATA_LINE, NODATA_SWATCH, LegendEntry, LegendItem, MapContext, esc, hot
from layers.data import area_table, ward_table

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: Office for National Statistics licensed under the OGL v3.0. "
    "English Indices of Deprivation © MHCLG. "
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "NHS ODS / NHS website data © NHS England (OGL)."
)


def _star(n: int = 5, size: float = 16, r_in: float = 16 / 4.5) -> str:
    import math
    pts = []
    for k in range(2 * n):
        r = (size / 2 - 1) if k % 2 == 0 else r_in
        a = math.pi / 2 + k * math.pi / n
        pts.append(f"{size / 2 + r * math.cos(a):.1f},{size / 2 - r * math.sin(a):.1f}")
    return " ".join(pts)


# same geometry as layers.services._svg at 16 px
_POINTS = {"diamond": "8,1 15,8 8,15 1,8", "triangle": "8,1 15,14 1,14", "star": _star()}


_HATCH_DEFS = ('<defs><pattern id="lsc-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
               f'<rect width="6" height="6" fill="{NODATA_SWATCH}"/><path d="M0,6 L6,0 M-1.5,1.5 L1.5,-1.5 '
               f'M4.5,7.5 L7.5,4.5" stroke="{NODATA_LINE}" stroke-width="1.3"/></pattern></defs>')


def _swatch(it: LegendItem) -> str:
    if it.hatch:        # no data: the map's hatch (LSC.hatch in static/js/lsc_map.js)
        stroke = esc(it.stroke) if it.stroke else NODATA_LINE
        dash = f' stroke-dasharray="{esc(it.dash)}"' if it.dash else ""
        return (f'<svg width="22" height="16" aria-hidden="true" class="lsc-sw-hatch">{_HATCH_DEFS}'
                f'<rect x="1.5" y="1.5" width="19" height="13" fill="url(#lsc-hatch)" stroke="{stroke}" '
                f'stroke-width="1"{dash}/></svg>')
    if it.casing and it.stroke and not it.fill:     # a cased outline (Core20): dark under orange
        sw = float(it.stroke_width)
        return (f'<svg width="22" height="16" aria-hidden="true" class="lsc-sw-cased">'
                f'<rect x="2.5" y="2.5" width="17" height="11" fill="none" stroke="{esc(it.casing)}" '
                f'stroke-width="{sw + 2.4}"/><rect x="2.5" y="2.5" width="17" height="11" fill="none" '
                f'stroke="{esc(it.stroke)}" stroke-width="{sw}"/></svg>')
    if it.shape == "line":
        dash = f' stroke-dasharray="{esc(it.dash)}"' if it.dash else ""
        return (f'<svg width="30" height="14" aria-hidden="true"><line x1="1" y1="7" x2="29" y2="7" '
                f'stroke="{esc(it.stroke)}" stroke-width="{float(it.stroke_width)}"{dash}/></svg>')
    fill = esc(it.fill) if it.fill else "none"
    stroke = esc(it.stroke) if it.stroke else "#999" if it.fill else "none"
    sw = float(it.stroke_width) if it.stroke else 0.5
    dash = f' stroke-dasharray="{esc(it.dash)}"' if it.dash else ""
    if it.shape == "circle":
        return (f'<svg width="16" height="16" aria-hidden="true"><circle cx="8" cy="8" r="6" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="{sw}"{dash}/></svg>')
    if it.shape in _POINTS:      # the marker shapes the services layer draws on the map
        return (f'<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" class="lsc-sw-{it.shape}">'
                f'<polygon points="{_POINTS[it.shape]}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"'
                f'{dash}/></svg>')
    return (f'<svg width="22" height="16" aria-hidden="true"><rect x="1.5" y="1.5" width="19" height="13" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"{dash}/></svg>')


def legend_html(entries: list[LegendEntry]) -> str:
    out = ['<div class="lsc-legend">']
    for e in entries:
        out.append(f'<div class="lsc-legend-entry"><div class="lsc-legend-title">{esc(e.title)}</div>')
        if e.grid:
            out.append(_grid_html(e.grid))
        for it in e.items:
            out.append(f'<div class="lsc-legend-item">{_swatch(it)}<span>{esc(it.label)}</span></div>')
        if e.vintage:
            out.append(f'<div class="lsc-legend-meta"><b>Vintage:</b> {esc(e.vintage)}</div>')
        if e.source:
            out.append(f'<div class="lsc-legend-meta"><b>Source:</b> {esc(e.source)}</div>')
        if e.note:
            out.append(f'<div class="lsc-legend-meta">{esc(e.note)}</div>')
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _grid_html(g: dict) -> str:
    """The bivariate key as the 3 x 3 grid people know: rows = the y variable (top = high),
    columns = the x variable (left to right), each cell its colour and count."""
    out = ['<div class="lsc-bigrid" role="table" aria-label="Bivariate key">'
           f'<div class="lsc-bigrid-y">{esc(g.get("y_title", ""))} &uarr;</div><table>']
    for r, row in enumerate(g["colors"]):
        out.append(f'<tr><th class="rl" scope="row">{esc(g["rows"][r])}</th>')
        for c, colour in enumerate(row):
            n = g.get("counts", [[""] * 3] * 3)[r][c]
            out.append(f'<td class="cell" style="background:{esc(colour)}" title="{esc(g["rows"][r])}, '
                       f'{esc(g["cols"][c])}: {esc(n)}"><span>{esc(n)}</span></td>')
        out.append("</tr>")
    out.append('<tr><th></th>' + "".join(f'<th class="cl" scope="col">{esc(c)}</th>' for c in g["cols"])
               + "</tr></table>")
    out.append(f'<div class="lsc-bigrid-x">{esc(g.get("x_title", ""))} &rarr;</div></div>')
    return "".join(out)


GRID_CSS = """
.lsc-bigrid { margin: .2rem 0 .35rem 0; }
.lsc-bigrid table { border-collapse: separate; border-spacing: 2px; border: none !important; margin: 0; }
.lsc-bigrid th, .lsc-bigrid td, .lsc-bigrid tr { border: none !important; background: none; }
.lsc-bigrid td.cell { width: 3.1em; height: 2.3em; text-align: center; vertical-align: middle; padding: 0 !important; }
.lsc-bigrid td.cell span { background: rgba(255,255,255,.78); border-radius: 3px; padding: 0 .25em;
  font-size: .8em; font-variant-numeric: tabular-nums; color: #111; }
.lsc-bigrid th.rl { text-align: right; font-weight: 400; font-size: .8em; padding: 0 .35em 0 0 !important;
  white-space: nowrap; }
.lsc-bigrid th.cl { font-weight: 400; font-size: .75em; text-align: center; line-height: 1.15; width: 3.1em;
  vertical-align: top; padding: .2em 0 0 0 !important; }
.lsc-bigrid-y, .lsc-bigrid-x { font-size: .8em; font-weight: 600; }
.lsc-bigrid-x { padding-left: 7em; }
"""


CSS = """
<style>
.lsc-legend { font-size: 0.95rem; }
.lsc-legend-entry { margin: 0 0 .8rem 0; }
.lsc-legend-title { font-weight: 700; margin-bottom: .2rem; }
.lsc-legend-item { display: flex; align-items: center; gap: .45rem; line-height: 1.25; margin: 1px 0; }
.lsc-legend-item svg { flex: none; }
.lsc-legend-meta { color: #444; font-size: .82rem; margin-top: .15rem; }
.lsc-bars { font-size: .9rem; }
.lsc-bar-row { display: flex; align-items: center; gap: .4rem; margin: 1px 0; }
.lsc-bar-row .d { width: 1.6rem; text-align: right; font-variant-numeric: tabular-nums; }
.lsc-bar-row .b { height: 14px; }
.lsc-bar-row .n { color: #333; font-variant-numeric: tabular-nums; white-space: nowrap; }
div[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
""" + GRID_CSS + """
</style>
"""


def draw_legend(entries: list[LegendEntry]) -> None:
    if entries:
        st.markdown(legend_html(entries), unsafe_allow_html=True)
    else:
        st.caption("No layer is switched on.")


SHOW_COLS = {
    "name": "Ward", "lad19nm": "District", "place5": "Place (five)", "place4": "Place (four)",
    "population": "Population", "imd_score": "IMD score (pop-weighted)", "pct_core20": "% Core20",
    "core20_population": "Core20 people", "pct_decile1": "% in decile 1",
    "imd_rank_in_lsc": "Rank in LSC", "n_lsoas": "LSOAs", "code": "Ward code",
}


def wards_in_area(ctx: MapContext, vintage: int) -> pd.DataFrame:
    t = ward_table(ctx.store, ctx.fingerprint, vintage)
    a = ctx.area
    if a["kind"] == "district":
        t = t[t["lad19cd"] == a["code"]]
    elif a["kind"] in ("place5", "place4"):
        t = t[t[a["kind"]] == a["code"]]
    return t


@hot(maxsize=64)
@st.cache_resource(max_entries=64, show_spinner=False)
def _ward_view(_store, fp: str, vintage: int, kind: str, code, membership_items: tuple,
               outreach_key: str = "", _outreach=None):
    """The ward table as shown, as (DataFrame, Arrow table, population basis). Cached as a
    resource (shared, read-only: nothing may modify it) so a rerun that changes nothing
    in the table costs no copy and no pandas->Arrow conversion. `_outreach` (a callable
    returning a DataFrame keyed on `code`, identified by `outreach_key`) adds the
    services layer's outreach recency columns for the priority wards."""
    import pyarrow as pa

    from layers.data import ward_table as _wt
    t = _wt(_store, fp, vintage)
    if kind == "district":
        t = t[t["lad19cd"] == code]
    elif kind in ("place5", "place4"):
        t = t[t[kind] == code]
    membership = dict(membership_items)
    cols = [c for c in SHOW_COLS if c in t.columns]
    view = t[cols].rename(columns=SHOW_COLS)
    labels = {"icb": "ICB list", "exemplar": "Exemplar", "candidate": "Candidate"}
    view["Priority"] = [", ".join(labels[k] for k in membership.get(c, ())) for c in t["code"]]
    extra = _outreach() if _outreach is not None else None
    if extra is not None and len(extra):
        extra = extra.set_index("code")
        for col in extra.columns:
            view[col] = t["code"].map(extra[col])
    view = view.sort_values("IMD score (pop-weighted)", ascending=False, na_position="last")
    basis = t["population_basis"].iloc[0] if len(t) else ""
    view = view.reset_index(drop=True)
    return view, pa.Table.from_pandas(view, preserve_index=False), basis


def _outreach_for(ctx: MapContext, membership: dict[str, list[str]]):
    """(cache key, callable giving the columns) of days since the last HARI bus stop for
    the priority wards, when the services layer is on; ("", None) otherwise."""
    if not membership or not ctx.state.get("services", {}).get("on"):
        return "", None
    from layers import services
    key = f"{services.register_key()}:{services.today()}"

    def columns():
        try:
            return services.outreach_columns(ctx, list(membership))
        except Exception as e:          # the table still shows without the extra columns
            st.caption(f"Outreach recency could not be added to the ward table ({type(e).__name__}: {esc(e)}).")
            return None
    return key, columns


def ward_table_panel(ctx: MapContext, membership: dict[str, list[str]]) -> None:
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    items = tuple(sorted((c, tuple(k)) for c, k in membership.items()))
    okey, outreach = _outreach_for(ctx, membership)
    view, arrow, basis = _ward_view(ctx.store, ctx.fingerprint, vintage, ctx.area["kind"], ctx.area["code"],
                                    items, okey, outreach)
    okey_cols = " ".join(c for c in view.columns if c.startswith("Days since HARI bus"))
    st.markdown(f"#### Wards in {esc(ctx.area['name'])} ({len(view)}) · IoD{vintage}")
    st.dataframe(arrow, hide_index=True, width="stretch", height=360,
                 column_config={
                     "Population": st.column_config.NumberColumn(format="localized"),
                     "IMD score (pop-weighted)": st.column_config.NumberColumn(format="%.1f"),
                     "% Core20": st.column_config.NumberColumn(format="%.1f"),
                     "Core20 people": st.column_config.NumberColumn(format="localized"),
                     "% in decile 1": st.column_config.NumberColumn(format="%.1f"),
                 }, key="ward_table")
    fname = f"lsc_wards_{ctx.area['name']}_IoD{vintage}.csv".replace(" ", "_").replace("/", "-")
    st.download_button("Download CSV", lambda: safe_csv_bytes(view), file_name=fname, mime="text/csv",
                       key="ward_table_csv", on_click="ignore")
    st.caption(f"Ward figures: {basis}. "
               "LSOAs are assigned to May 2024 wards by postcode best fit (approximate). "
               "Rank in LSC: 1 = most deprived by population-weighted IMD score."
               + (" Days since HARI bus: since the last stop in the ward or within 1 km of it (priority "
                  "wards only; blank = none in the schedule)"
                  + ("; the shipped schedule is ILLUSTRATIVE, not real outreach." if "ILLUSTRATIVE" in okey_cols
                     else ".") if okey_cols else ""))


def ward_profile(ctx: MapContext, code: str, membership: dict[str, list[str]]) -> None:
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    w = ctx.store.wards24
    row = w[w["wd24cd"] == code]
    if row.empty:
        st.warning(f"Ward {esc(code)} is not in the May 2024 LSC wards.")
        return
    r = row.iloc[0]
    st.markdown(f"### {esc(r['wd24nm'])}")
    st.markdown(f"{esc(r['lad19nm'])} · {esc(r['place5'])} (legacy five) · {esc(r['place4'])} (four) · "
                f"`{esc(code)}`")
    kinds = membership.get(code, [])
    if kinds:
        names = {"icb": "on the ICB's priority list", "exemplar": "an exemplar ward",
                 "candidate": "a derived candidate (deprivation rule)"}
        st.markdown("**Priority:** " + "; ".join(names[k] for k in kinds))

    # its LSOAs by IMD national decile
    lsoa = ctx.store.lsoa if vintage == 2019 else ctx.store.lsoa25
    pop = "pop2015" if vintage == 2019 else "pop2021"
    mine = lsoa[lsoa["wd24cd"] == code]
    pal = ctx.config.get("deprivation", {}).get("palette", ["#555"] * 10)
    counts = mine.groupby("imd_decile").agg(n=("imd_decile", "size"), pop=(pop, "sum"))
    total = max(float(counts["pop"].sum()), 1.0)
    rows = []
    for d in range(1, 11):
        n = int(counts["n"].get(d, 0)) if d in counts.index else 0
        p = float(counts["pop"].get(d, 0.0)) if d in counts.index else 0.0
        width = 0 if not n else max(2, int(160 * p / total))
        rows.append(f'<div class="lsc-bar-row"><span class="d">{d}</span>'
                    f'<span class="b" style="width:{width}px;background:{esc(pal[d - 1])}"></span>'
                    f'<span class="n">{n} LSOA{"s" if n != 1 else ""} · {p:,.0f} people</span></div>')
    st.markdown(f"**Its {len(mine)} LSOAs by IMD national decile** (IoD{vintage}; 1 = most deprived)")
    st.markdown('<div class="lsc-bars">' + "".join(rows) + "</div>", unsafe_allow_html=True)

    # figures against place, ICB and England
    wt = ward_table(ctx.store, ctx.fingerprint, vintage)
    wrow = wt[wt["code"] == code]
    places = area_table(ctx.store, ctx.fingerprint, "place", vintage, "place5")
    prow = places[places["code"] == r["place5"]]
    icb = area_table(ctx.store, ctx.fingerprint, "icb", vintage)
    eng = area_table(ctx.store, ctx.fingerprint, "england", vintage)
    comp = []
    for label, df in ((f"Ward: {r['wd24nm']}", wrow), (f"Place: {r['place5']}", prow),
                      ("LSC ICB", icb), ("England", eng)):
        if df is None or df.empty:
            if label == "England":   # IoD2025 is staged for LSC only: the caption below says so
                continue
            comp.append({"Area": label, "Population": None, "IMD score": None, "% Core20": None,
                         "% in decile 1": None})
            continue
        x = df.iloc[0]
        comp.append({"Area": label, "Population": x.get("population"), "IMD score": x.get("imd_score"),
                     "% Core20": x.get("pct_core20"), "% in decile 1": x.get("pct_decile1")})
    st.markdown("**Against place, ICB and England**")
    st.dataframe(pd.DataFrame(comp), hide_index=True, width="stretch",
                 column_config={"Population": st.column_config.NumberColumn(format="localized"),
                                "IMD score": st.column_config.NumberColumn(format="%.1f"),
                                "% Core20": st.column_config.NumberColumn(format="%.1f"),
                                "% in decile 1": st.column_config.NumberColumn(format="%.1f")},
                 key="ward_profile_table")
    if vintage == 2025:
        st.caption("England comparator: IoD2025 LSOA data are staged for LSC only.")
    from layers.indicators import profile_section   # the ward's indicators, with CIs and comparators
    profile_section(ctx, code)
    with st.expander(f"The ward's LSOAs ({len(mine)})"):
        code_col = "lsoa11cd" if vintage == 2019 else "lsoa21cd"
        name_col = "lsoa11nm" if vintage == 2019 else "lsoa21nm"
        st.dataframe(mine[[code_col, name_col, "imd_decile", "imd_score", pop]]
                     .rename(columns={code_col: "LSOA", name_col: "Name", "imd_decile": "IMD decile",
                                      "imd_score": "IMD score", pop: "Population"})
                     .sort_values("IMD score", ascending=False),
                     hide_index=True, width="stretch", key="ward_profile_lsoas")
