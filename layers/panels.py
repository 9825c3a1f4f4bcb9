"""Streamlit panels around the map: legend, attribution, ward profile, ward table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo.csvsafe import safe_csv_bytes
from layers.base import _MD_LINE_BREAKS as _BREAKS
from layers.base import NODATA_LINE, NODATA_SWATCH, LegendEntry, LegendItem, MapContext, esc, esc_line, hot, md
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
.lsc-profile h3 { font-size: 1.5rem; font-weight: 600; line-height: 1.2; margin: 0 0 .6rem 0; padding: .5rem 0 0 0; }
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


@hot(maxsize=256)
def _ward_rows(_store, fp: str, code: str, vintage: int):
    """(the ward's wards24 row, its LSOAs of that vintage), memoised (read-only)."""
    w = _store.wards24
    lsoa = _store.lsoa if vintage == 2019 else _store.lsoa25
    at = _positions(_store, fp, vintage)
    return w.iloc[at["wards"].get(code, [])], lsoa.iloc[at["lsoa"].get(code, [])]


@hot(maxsize=8)
def _positions(_store, fp: str, vintage: int) -> dict:
    """{"wards": {ward code: [row]}, "lsoa": {ward code: its LSOAs' rows}} (positions)."""
    lsoa = _store.lsoa if vintage == 2019 else _store.lsoa25
    group = pd.Series(range(len(lsoa))).groupby(lsoa["wd24cd"].to_numpy()).agg(list).to_dict()
    return {"wards": {c: [i] for i, c in enumerate(_store.wards24["wd24cd"])}, "lsoa": group}


def ward_profile(ctx: MapContext, code: str, membership: dict[str, list[str]]) -> None:
    """The ward's profile as ONE static HTML element (heading, deprivation bars, the
    comparison with place/ICB/England, services, outreach, indicators), then the lazy
    LSOA list. One element, not ~17 markdown/table elements: the browser draws a
    profile in a fraction of the time (issue #16); every value is escaped here."""
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    row, mine = _ward_rows(ctx.store, ctx.fingerprint, code, vintage)
    if row.empty:
        st.warning(f"Ward {md(code)} is not in the May 2024 LSC wards.")
        return
    st.html(profile_html(ctx, code, membership, vintage, row.iloc[0], mine))
    # lazy: the list is built only while its expander is open (a profile-only rerun)
    lsoas = st.expander(f"The ward's LSOAs ({len(mine)})", key="ward_profile_lsoas_open", on_change="rerun")
    if not lsoas.open:
        return
    pop = "pop2015" if vintage == 2019 else "pop2021"
    with lsoas:
        code_col = "lsoa11cd" if vintage == 2019 else "lsoa21cd"
        name_col = "lsoa11nm" if vintage == 2019 else "lsoa21nm"
        st.dataframe(mine[[code_col, name_col, "imd_decile", "imd_score", pop]]
                     .rename(columns={code_col: "LSOA", name_col: "Name", "imd_decile": "IMD decile",
                                      "imd_score": "IMD score", pop: "Population"})
                     .sort_values("IMD score", ascending=False),
                     hide_index=True, width="stretch", key="ward_profile_lsoas")


def html_table(header: list[str], rows: list[list], numeric: tuple[str, ...] = (), cls: str = "") -> str:
    """A static HTML table; every cell escaped (None -> "n/a"); `numeric` columns right-aligned."""
    num = [h in numeric for h in header]
    head = "".join(f'<th{" class=n" if n else ""} scope="col">{esc(h)}</th>' for h, n in zip(header, num))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if n else ""}>{esc("n/a" if v is None else v)}</td>'
                                    for v, n in zip(r, num)) + "</tr>" for r in rows)
    return f'<table class="lsc-t {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(v, fmt: str) -> str | None:
    return None if v is None or pd.isna(v) else format(float(v), fmt)


def profile_html(ctx: MapContext, code: str, membership: dict[str, list[str]], vintage: int, r, mine) -> str:
    """The ward profile's HTML (see ward_profile): every text escaped."""
    out = ['<div class="lsc-profile">', f"<h3>{esc(r['wd24nm'])}</h3>",
           f"<p>{esc(r['lad19nm'])} · {esc(r['place5'])} (legacy five) · {esc(r['place4'])} (four) · "
           f"<code>{esc(code)}</code></p>"]
    kinds = membership.get(code, [])
    if kinds:
        names = {"icb": "on the ICB's priority list", "exemplar": "an exemplar ward",
                 "candidate": "a derived candidate (deprivation rule)"}
        out.append("<p><b>Priority:</b> " + esc("; ".join(names.get(k, k) for k in kinds)) + "</p>")

    # its LSOAs by IMD national decile
    pop = "pop2015" if vintage == 2019 else "pop2021"
    pal = ctx.config.get("deprivation", {}).get("palette", ["#555"] * 10)
    dec = pd.to_numeric(mine["imd_decile"], errors="coerce").to_numpy(float)
    ok = (dec >= 1) & (dec <= 10)
    dec_i = dec[ok].astype(int)
    n_by = np.bincount(dec_i, minlength=11)
    pop_by = np.bincount(dec_i, weights=pd.to_numeric(mine[pop], errors="coerce").fillna(0).to_numpy(float)[ok],
                         minlength=11)
    total = max(float(pop_by.sum()), 1.0)
    bars = []
    for d in range(1, 11):
        n, p = int(n_by[d]), float(pop_by[d])
        width = 0 if not n else max(2, int(160 * p / total))
        bars.append(f'<div class="lsc-bar-row"><span class="d">{d}</span>'
                    f'<span class="b" style="width:{width}px;background:{esc(pal[d - 1])}"></span>'
                    f'<span class="n">{n} LSOA{"s" if n != 1 else ""} · {p:,.0f} people</span></div>')
    if mine.empty and vintage == 2019:
        from geo.wardfit import NO_LSOA_NOTE
        out.append(f'<div class="lsc-note" role="note">This ward has {esc(NO_LSOA_NOTE)}.</div>')
    out.append(f"<p><b>Its {len(mine)} LSOAs by IMD national decile</b> (IoD{vintage}; 1 = most deprived)</p>")
    out.append('<div class="lsc-bars">' + "".join(bars) + "</div>")
    out.append(_comparison_html(ctx, r, code, vintage))
    out.append(_services_html(ctx, code))
    out.append(_outreach_html(ctx, code))
    out.append(_indicators_html(ctx, code))
    out.append("</div>")
    return "".join(out)


COMPARISON_COLS = ["Area", "Population", "IMD score", "% Core20", "% in decile 1"]


FIGURES = ("population", "imd_score", "pct_core20", "pct_decile1")


@hot(maxsize=32)
def _figures(_store, fp: str, by: str, vintage: int, grouping: str = "place5") -> dict:
    """{code: (population, IMD score, % Core20, % in decile 1)} of area_table(...): a
    profile looks up three rows, not three filtered copies of the tables."""
    t = area_table(_store, fp, by, vintage, grouping)
    if t is None or t.empty:
        return {}
    cols = [t[c].to_numpy() if c in t.columns else [None] * len(t) for c in FIGURES]
    codes = t["code"].tolist() if "code" in t.columns else [None] * len(t)
    return {c: tuple(None if v is None or pd.isna(v) else float(v) for v in vals)
            for c, *vals in zip(codes, *cols)}


def comparison_rows(ctx: MapContext, r, code: str, vintage: int) -> tuple[list[dict], bool]:
    """The ward against its place, the ICB and England: rows of raw figures (None = no
    figure), and whether an England-wide table was there."""
    def first(d: dict):
        return next(iter(d.values()), None)
    wards = _figures(ctx.store, ctx.fingerprint, "ward", vintage)
    places = _figures(ctx.store, ctx.fingerprint, "place", vintage, "place5")
    icb = first(_figures(ctx.store, ctx.fingerprint, "icb", vintage))
    eng = first(_figures(ctx.store, ctx.fingerprint, "england", vintage))
    comp = []
    for label, x in ((f"Ward: {r['wd24nm']}", wards.get(code)), (f"Place: {r['place5']}", places.get(r["place5"])),
                     (f"ICB: {getattr(ctx.store, 'name', 'LSC ICB')}", icb), ("England", eng)):
        if x is None:
            if label == "England":   # no England-wide table in this store: the caption says so
                continue
            comp.append({"Area": label})
            continue
        comp.append({"Area": label, **dict(zip(COMPARISON_COLS[1:], x))})
    return comp, eng is not None


def _comparison_html(ctx: MapContext, r, code: str, vintage: int) -> str:
    comp, has_england = comparison_rows(ctx, r, code, vintage)
    rows = [[c["Area"], _num(c.get("Population"), ",.0f"), _num(c.get("IMD score"), ".1f"),
             _num(c.get("% Core20"), ".1f"), _num(c.get("% in decile 1"), ".1f")] for c in comp]
    out = "<p><b>Against place, ICB and England</b></p>" + html_table(
        COMPARISON_COLS, rows, numeric=tuple(COMPARISON_COLS[1:]), cls="lsc-comparison")
    if not has_england:
        out += f'<p class="lsc-cap">England comparator: no England-wide IoD{vintage} LSOA table in this data store.</p>'
    elif vintage == 2025:
        out += ('<p class="lsc-cap">IoD2025 figures use Census 2021 usual residents as the denominator (MHCLG\'s own '
                "denominators are not staged), for the ward, place, ICB and England alike.</p>")
    return out


@hot(maxsize=256)
def _ward_services(_wards, _reg, fp: str, code: str, reg_key: str, day: str) -> pd.DataFrame:
    """geo.access.ward_services, memoised per ward, register version and day (read-only)."""
    from geo.access import ward_services
    return ward_services(_wards, code, _reg.records, day, config=_reg.config, opened=_open_sites(_reg, reg_key, day))


@hot(maxsize=8)
def _open_sites(_reg, reg_key: str, day: str) -> dict:
    """The register's open sites per category on `day` (the same for every ward)."""
    from geo.access_ward import open_by_category
    return open_by_category(_reg.records, day, _reg.config)


@hot(maxsize=256)
def _ward_stops(_wards, _reg, fp: str, code: str, reg_key: str, day: str) -> pd.DataFrame:
    """geo.access.ward_stops for the HARI bus, memoised like _ward_services (read-only)."""
    from geo.access import ward_stops
    return ward_stops(_wards, code, _reg.category("hari_bus"), day)


def _services_html(ctx: MapContext, code: str) -> str:
    """Open sites of each category in or within 1 km of the ward, and the nearest one (a
    list: it reads in the narrow profile column, where a wide table is cut off)."""
    current_register, register_key, today = (ctx.need(f"services.{n}") for n in ("current_register", "register_key",
                                                                                 "today"))
    try:
        t = _ward_services(ctx.store.wards24, current_register(), ctx.fingerprint, code, register_key(), today())
    except Exception as e:               # the rest of the profile still shows
        return f'<p class="lsc-cap">Services unavailable ({esc(type(e).__name__)}: {esc(e)}).</p>'
    lines = []
    for r in t.itertuples():
        near = (f"nearest: {esc(r.nearest)}, {r.nearest_km:.2f} km" + (" (in the ward)" if r.nearest_km == 0 else "")
                if r.nearest else "none open")
        lines.append(f"<li><b>{esc(r.label)}</b>: {esc(r.in_or_near)} in or within 1 km; {near}</li>")
    return (f"<p><b>Services in or near this ward</b> (open on {esc(today())})</p>"
            f'<ul class="lsc-services">{"".join(lines)}</ul>'
            '<p class="lsc-cap">Straight-line distance from the ward boundary (not road distance). Sites and their '
            "status: the services register, as the Services layer shows it.</p>")


def _outreach_html(ctx: MapContext, code: str, limit: int = 12) -> str:
    """The ward's HARI bus stops (in or within 1 km): visited, today, upcoming, cancelled."""
    current_register, register_key, today = (ctx.need(f"services.{n}") for n in ("current_register", "register_key",
                                                                                 "today"))
    try:
        t = _ward_stops(ctx.store.wards24, current_register(), ctx.fingerprint, code, register_key(), today())
    except Exception as e:
        return f'<p class="lsc-cap">Outreach history unavailable ({esc(type(e).__name__)}: {esc(e)}).</p>'
    illus = bool(len(t) and t["illustrative"].astype(bool).any())
    out = ("<p><b>Outreach history: HARI bus stops in or within 1 km</b>"
           + (" · ILLUSTRATIVE schedule" if illus else "") + "</p>")
    if not len(t):
        return out + '<p class="lsc-cap">No HARI bus stop in or within 1 km of this ward in the schedule.</p>'
    lines = [f"<li>{esc(r.event_date)} · <b>{esc(STOP_WORDS.get(r.state, r.state))}</b> · {esc(r.name)}"
             + (" (in the ward)" if r.distance_km == 0 else f" ({r.distance_km:.2f} km away)") + "</li>"
             for r in t.head(limit).itertuples()]
    if len(t) > limit:
        lines.append(f"<li>… and {len(t) - limit} earlier stop(s)</li>")
    n_vis = int((t["state"] == "visited").sum())
    n_up = int(t["state"].isin(["upcoming", "today"]).sum())
    return (out + f'<ul class="lsc-outreach">{"".join(lines)}</ul>'
            f'<p class="lsc-cap">{n_vis} visited, {n_up} planned, on {esc(today())}.'
            + (" The shipped schedule is an ILLUSTRATIVE example, not real outreach." if illus else "") + "</p>")


STOP_WORDS = {"visited": "visited", "today": "today", "upcoming": "planned", "cancelled": "cancelled"}


def _indicators_html(ctx: MapContext, code: str) -> str:
    """The ward's indicators with CIs and comparators, as a static table whose cells wrap:
    in the narrow profile column a grid cuts the indicator names or the values off."""
    from geo.errors import GeoError
    try:
        t = ctx.need("indicators.ward_table")(ctx, code)
    except GeoError as e:
        return f'<p class="lsc-cap">Indicators unavailable: {esc(e)}</p>'
    out = ("<p><b>Health indicators for this ward</b> (ward values where the Census ward code matches May 2024; "
           "otherwise the district's value, labelled)</p>")
    if t.empty:
        return out + '<p class="lsc-cap">No indicator values for this ward.</p>'
    v = indicator_view(t)
    return out + html_table(list(v.columns), v.values.tolist(), numeric=("Value (95% CI)", "LSC", "England"),
                            cls="lsc-indicators")


def indicator_view(t: pd.DataFrame) -> pd.DataFrame:
    """Indicator table for reading: name with unit, value with its 95% CI, comparators,
    and where the value comes from (level, period, note), all as text ("–" = none)."""
    def num(v):
        return "–" if v is None or pd.isna(v) else f"{float(v):,.1f}"

    def get(r, c):
        return r.get(c) if c in r and not (isinstance(r.get(c), float) and pd.isna(r.get(c))) else ""
    rows = []
    for r in t.to_dict("records"):
        ci = (f" ({num(r.get('Lower 95% CI'))}–{num(r.get('Upper 95% CI'))})"
              if not pd.isna(r.get("Lower 95% CI", float("nan"))) else "")
        comp = "; ".join(x for x in (get(r, "Compared with LSC"), get(r, "Compared with England")) if x)
        unit = get(r, "Unit")
        rows.append({"Indicator": f"{r.get('Indicator')}" + (f" ({unit})" if unit else ""),
                     "Value (95% CI)": num(r.get("Value")) + ci, "LSC": num(r.get("LSC")),
                     "England": num(r.get("England")),
                     "From": " · ".join(str(x) for x in (get(r, "Level"), get(r, "Period"), get(r, "Note"), comp)
                                        if x)})
    return pd.DataFrame(rows)
