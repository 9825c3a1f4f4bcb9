"""Streamlit panels around the map: legend, attribution, ward profile, ward table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.csvsafe import safe_csv_bytes
from layers.base import _MD_LINE_BREAKS as _BREAKS
from layers.base import NODATA_LINE, NODATA_SWATCH, LegendEntry, LegendItem, MapContext, esc, esc_line, hot, md
from layers.data import ward_table

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


# same geometry as render.markers._svg at 16 px
_POINTS = {"diamond": "8,1 15,8 8,15 1,8", "triangle": "8,1 15,14 1,14", "star": _star(),
           "hexagon": "8,1 14,4.5 14,11.5 8,15 2,11.5 2,4.5"}


_HATCH_DEFS = ('<defs><pattern id="lsc-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
               f'<rect width="6" height="6" fill="{NODATA_SWATCH}"/><path d="M0,6 L6,0 M-1.5,1.5 L1.5,-1.5 '
               f'M4.5,7.5 L7.5,4.5" stroke="{NODATA_LINE}" stroke-width="1.3"/></pattern></defs>')


def _swatch(it: LegendItem) -> str:
    if it.hatch:        # no data: the map's hatch (LSC.hatch in static/js/lsc_core.js)
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
        out.append(f'<div class="lsc-legend-entry"><div class="lsc-legend-title">{esc_line(e.title)}</div>')
        if e.grid:
            out.append(_grid_html(e.grid))
        for it in e.items:
            out.append(f'<div class="lsc-legend-item">{_swatch(it)}<span>{esc_line(it.label)}</span></div>')
        if e.vintage:
            out.append(f'<div class="lsc-legend-meta"><b>Vintage:</b> {esc_line(e.vintage)}</div>')
        if e.source:
            out.append(f'<div class="lsc-legend-meta"><b>Source:</b> {esc_line(e.source)}</div>')
        if e.note:
            out.append(f'<div class="lsc-legend-meta">{esc_line(e.note)}</div>')
        out.append("</div>")
    out.append("</div>")
    # one line: a blank line would end the HTML block and let the rest be read as markdown
    return _BREAKS.sub(" ", "".join(out))


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
.lsc-profile { font-size: 1rem; line-height: 1.5; }
.lsc-profile h3 { font-size: 1.75rem; font-weight: 600; line-height: 1.2; margin: 0 0 .6rem 0; padding: .5rem 0 0 0; }
.lsc-profile p { margin: 0 0 .5rem 0; }
.lsc-profile .lsc-bars { margin: 0 0 .9rem 0; }
.lsc-profile p.lsc-cap { font-size: .875rem; color: rgba(49, 51, 63, .6); margin: -.2rem 0 .9rem 0; }
.lsc-profile code { font-size: .85em; padding: .1em .25em; border-radius: .25rem; background: rgba(172, 177, 195, .25); }
.lsc-profile ul { margin: 0 0 .6rem 0; padding-left: 1.2rem; }
.lsc-profile li { margin: 0 0 .15rem 0; }
.lsc-profile .lsc-note { background: rgba(28, 131, 225, .1); color: rgb(0, 66, 128); border-radius: .5rem;
  padding: .75rem 1rem; margin: 0 0 .8rem 0; }
.lsc-t { border-collapse: collapse; width: 100%; font-size: .875rem; margin: 0 0 .9rem 0; }
.lsc-t th { font-weight: 600; color: rgba(49, 51, 63, .75); text-align: left; vertical-align: bottom; }
.lsc-t th, .lsc-t td { border-bottom: 1px solid rgba(49, 51, 63, .1); padding: .3rem .4rem; }
.lsc-t td { vertical-align: top; }
.lsc-t .n { text-align: right; font-variant-numeric: tabular-nums; }
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
    "imd_rank_in_lsc": "Rank in LSC", "n_lsoas": "LSOAs", "code": "Ward code", "note": "Note",
}


def wards_in_area(ctx: MapContext, vintage: int) -> pd.DataFrame:
    t = ward_table(ctx.store, ctx.fingerprint, vintage)
    a = ctx.area
    if a["kind"] == "district":
        t = t[t["lad19cd"] == a["code"]]
    elif a["kind"] in ("place5", "place4"):
        t = t[t[a["kind"]] == a["code"]]
    elif a["kind"] == "custom":         # the wards its LSOAs best-fit to (layers/areas.py)
        t = t[t["code"].isin(a.get("wards") or ())]
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
    elif kind == "custom":              # code: the custom area's ward codes (a tuple)
        t = t[t["code"].isin(code)]
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
    if "Note" in view.columns:          # why a ward has no figures: last, and only where one has
        note = view.pop("Note")
        if note.astype(bool).any():
            view["Note"] = note
    view = view.sort_values("IMD score (pop-weighted)", ascending=False, na_position="last")
    basis = t["population_basis"].iloc[0] if len(t) else ""
    view = view.reset_index(drop=True)
    return view, pa.Table.from_pandas(view, preserve_index=False), basis


def _outreach_for(ctx: MapContext, codes):
    """(cache key, callable giving the columns) of days since the last HARI bus stop for
    every ward of the area, when the services layer is on; ("", None) otherwise."""
    if not codes or not ctx.state.get("services", {}).get("on"):
        return "", None
    key = f"{ctx.need('services.register_key')()}:{ctx.need('services.today')()}"

    def columns():
        try:
            t = ctx.need("services.outreach_columns")(ctx, list(codes))
            return t[[c for c in t.columns if c != "HARI stops near"]]
        except Exception as e:          # the table still shows without the extra columns
            st.caption(f"Outreach recency could not be added to the ward table ({type(e).__name__}: {md(e)}).")
            return None
    return key, columns


def ward_table_panel(ctx: MapContext, membership: dict[str, list[str]]) -> None:
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    items = tuple(sorted((c, tuple(k)) for c, k in membership.items()))
    okey, outreach = _outreach_for(ctx, wards_in_area(ctx, vintage)["code"].tolist())
    code = tuple(ctx.area.get("wards") or ()) if ctx.area["kind"] == "custom" else ctx.area["code"]
    view, arrow, basis = _ward_view(ctx.store, ctx.fingerprint, vintage, ctx.area["kind"], code,
                                    items, okey, outreach)
    okey_cols = " ".join(c for c in view.columns if c.startswith("Days since HARI bus"))
    st.markdown(f"#### Wards in {md(ctx.area['name'])} ({len(view)}) · IoD{vintage}")
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
               + (" Note: why a ward has no figures (no LSOA is best-fitted to it)." if "Note" in view.columns
                  and view["Note"].astype(bool).any() else "")
               + (" Days since HARI bus: since the last stop held in the ward or within 1 km of it. "
                  + _services_note()
                  + (" The shipped schedule is ILLUSTRATIVE, not real outreach." if "ILLUSTRATIVE" in okey_cols
                     else "") if okey_cols else ""))


def _services_note() -> str:
    from layers.base import need
    return need("services.no_stop_note")


# the ward profile lives in layers/profile.py (re-exported here, where callers find it)
from layers.profile import (COMPARISON_COLS, STOP_WORDS, comparison_rows, html_table, indicator_view,  # noqa: E402,F401
                            prewarm, prewarm_profile, profile_html, ward_profile)
