"""Indicator choropleth layer: any indicator by LSOA, ward, district or place,
honestly classed (geo/classify.py), plus a bivariate indicator x Core20 view.

Per rerun only a per-area class array and a few colours go to the browser
(`LSC.set("indicators", payload)`); geometry comes from the static TopoJSON the map
already holds (lsoa, wards = May-2024, districts, place5, place4) plus one extra static
TopoJSON with the Dec-2019 wards and sub-ICB locations, fetched once.

All matching/classing is in geo/ (pure); this module does the widgets, the payload and
the legend; the cached look-ups and the classification of the drawn areas are in
layers/indicators_data.py, the instant-restyle worker in layers/indicators_instant.py. Everything user-supplied that reaches HTML is escaped (layers.base.esc);
the report and tables go through st.dataframe / st.text (no HTML).
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from geo import classify as C
from geo import indicators as I
from geo import viewfields as VF
from geo.errors import GeoError
from geo.csvsafe import neutralise_frame, safe_csv_bytes
from geo.tabular import display_name
from layers.base import (NODATA_SWATCH, Layer, LegendEntry, LegendItem, MapContext, esc, md, provide, public_text,
                         widget_default)
from layers.controls import INDICATORS as K
from layers.indicators_data import (COMPARATORS, EXTRA_OBJECTS, MISSING_STYLE, OBJECTS, _aggregated, _builtin,
                                    _classified, _decile_table, _uploaded, extra_geometry_url, hover_url)
from layers.indicators_instant import instant_url
from render.map import part_group

KEY = "indicators"
K_RANGE = (3, 7)            # the "Number of classes" slider
K_DEFAULT = 5
BY_LABEL = {"native": "As in the file", "ward": "Wards", "district": "Districts", "place": "Places (legacy five)"}




# ------------------------------------------------------------------ self-timing
def _timed(fn):
    """Accumulate this layer's own Python time per rerun; legend() (called last) writes it
    to $LSC_TIMING_LOG as {"layer": "indicators", "layer_ms": ...} for the benchmark."""
    @functools.wraps(fn)
    def wrapper(self, ctx, *a, **k):
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(self, ctx, *a, **k)
        finally:
            s = ctx.state.setdefault(KEY, {})
            if fn.__name__ == "sidebar":
                s["_ms"], s["_cpu_ms"] = 0.0, 0.0
            s["_ms"] = s.get("_ms", 0.0) + (time.perf_counter() - t0) * 1000
            s["_cpu_ms"] = s.get("_cpu_ms", 0.0) + (time.thread_time() - c0) * 1000
            if fn.__name__ == "legend":
                if s.get("on"):
                    from layers.timing import log_record
                    log_record({"layer": KEY, "layer_ms": s["_ms"], "layer_cpu_ms": s["_cpu_ms"], "t": time.time()})
    return wrapper


# ------------------------------------------------------------------ the layer
class IndicatorsLayer(Layer):
    key = KEY
    label = "Indicators (choropleth)"
    order = 15
    default_on = False
    fields = VF.INDICATORS          # ind, cls, k, brk

    # ---------------------------------------------------------- link state
    def to_session(self, values: dict, ss) -> None:
        super().to_session(values, ss)
        if values.get("ind"):        # "dataset:indicator", or a bare indicator of the first dataset
            ds, _, ind = values["ind"].partition(":")
            if ind:
                ss[K["dataset"]], ss[K["indicator"]] = ds, ind
            else:
                ss[K["indicator"]] = ds

    def link_values(self, ctx: MapContext, ss) -> dict:
        s = ctx.state.get(self.key, {})
        if not (s.get("on") and s.get("indicator")):
            return {}
        ds = ss.get(K["dataset"])
        out = {"ind": f"{ds}:{s['indicator']}" if ds and ds != "upload" else str(s["indicator"]),
               "cls": s.get("method")}
        if s.get("method") == "fixed" and s.get("thresholds"):
            out["brk"] = tuple(float(x) for x in s["thresholds"])
        elif s.get("k") is not None:
            out["k"] = int(s["k"])
        return out

    def checked_link(self, values: dict) -> tuple[dict, list[str]]:
        ind = values.get("ind") or ""
        if ":" in ind and ind.partition(":")[0] not in I.builtin_labels():
            return ({k: v for k, v in values.items() if k != "ind"},
                    ["That indicator dataset is not available (any more); the first dataset is shown."])
        return values, []

    def state_from_view(self, view, store, fp: str = "") -> dict:
        return state_from_view(view, store, fp)

    # ---------------------------------------------------------- state helpers
    def _current(self, ctx: MapContext):
        """(data, data_key) for the chosen dataset/aggregation, or (None, message)."""
        s = ctx.state.get(self.key, {})
        return s.get("_data"), s.get("_data_key")

    @_timed
    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key=f"{self.key}_on", **widget_default(f"{self.key}_on", value=False))
        if not s["on"]:
            return
        store, fp = ctx.store, ctx.fingerprint
        labels = I.builtin_labels()
        up = st.file_uploader("Import an indicator file (CSV or XLSX: Fingertips export or area_code, "
                              "indicator, period, value)", type=["csv", "xlsx"], key=f"{self.key}_upload")
        options = list(labels)
        if up is not None:
            options = ["upload"] + options
        ds = st.selectbox("Indicator dataset", options, key=K["dataset"],
                          help="Built-in open datasets (ONS Census 2021, OHID Fingertips) or your own file.",
                          format_func=lambda k: f"Your file: {up.name}" if k == "upload" and up is not None
                          else labels.get(k, k))
        wv_labels = {"auto": "Best match", "2019": "Dec 2019", "2024": "May 2024"}
        wv_choice = st.radio("Ward boundaries for ward codes", ["auto", "2019", "2024"], horizontal=True,
                             key=K["ward_vintage"], format_func=wv_labels.get,
                             help="Ward codes changed with boundary reviews; the report says which rows did not "
                                  "match the boundaries drawn.")
        wv = None if wv_choice == "auto" else wv_choice
        try:
            if ds == "upload" and up is not None:
                raw = up.getvalue()
                digest = hashlib.sha256(raw).hexdigest()[:16]
                data = _uploaded(store, fp, digest, up.name, raw, wv)
                dkey = f"upload:{digest}:{wv}"
            else:
                data = _builtin(store, fp, ds, wv)
                dkey = f"{ds}:{wv}"
        except GeoError as e:
            st.error(md(str(e)))
            s["_error"] = str(e)
            return
        except Exception as e:     # whatever the bytes: a message, never a traceback
            msg = f"{display_name(up.name) if up is not None else ds}: could not be read ({type(e).__name__})"
            st.error(md(msg))
            s["_error"] = msg
            return
        inds = data.indicators()
        if not inds:
            st.error("Nothing in this file matched the map's areas: see the report below.")
            self._report(data)
            s["_error"] = "nothing matched"
            return
        ind = st.selectbox("Indicator", inds, key=K["indicator"],
                           help="Its choropleth takes the place of the deprivation colours; the Core20 "
                                "outline stays on top.",
                           format_func=lambda k: data.meta.get(k, {}).get("label", k))
        periods = data.periods(ind)
        per = st.selectbox("Period", periods, index=len(periods) - 1, key=f"{self.key}_period",
                           help="The time period of the values (latest by default).")
        fam_level = I.FAMILY_LEVEL.get(data.family, 9)
        bys = ["native"] + [b for b, lv in I.BY_LEVELS.items() if lv > fam_level and data.family in
                            ("lsoa", "ward", "district")]
        by = st.selectbox("Show by", bys, key=K["by"], format_func=BY_LABEL.get,
                          help="Aggregate to larger areas (population-weighted where the data allow).")
        if by != "native":
            data = _aggregated(data, f"{fp}:{dkey}:{by}", store, by, wv)     # fp: a rebuilt store re-aggregates
            dkey = f"{dkey}:{by}"
        mode = st.radio("View", ["choropleth", "bivariate"], horizontal=True, key=f"{self.key}_mode",
                        format_func={"choropleth": "Choropleth", "bivariate": "Bivariate × Core20"}.get,
                        help="Bivariate: the indicator's thirds crossed with each area's share of residents in "
                             "Core20 (national IMD deciles 1-2), as a 3 x 3 key.")
        if mode == "choropleth":
            method = st.selectbox("Classes", list(C.METHODS), format_func=C.METHODS.get,
                                  key=K["classes"],
                                  help="How values are grouped into colours: equal counts (quantiles), natural "
                                       "breaks, equal intervals or your own thresholds.")
            k, thresholds = 5, ()
            if method == "fixed":
                txt = st.text_input("Thresholds (comma-separated)", key=f"{self.key}_thresholds",
                                    placeholder="e.g. 5, 10, 15")
                try:
                    thresholds = tuple(sorted({float(x) for x in txt.replace(";", ",").split(",") if x.strip()}))
                except ValueError:
                    st.error(f"Thresholds must be numbers separated by commas, not {md(repr(txt))}.")
                    thresholds = ()
                if not thresholds:
                    st.caption("Type at least one threshold.")
            else:
                k = st.slider("Number of classes", K_RANGE[0], K_RANGE[1], key=f"{self.key}_k",
                              **widget_default(f"{self.key}_k", value=K_DEFAULT))
            avail = [c for c in COMPARATORS if data.comparator(ind, per, c)[0] is not None]
            scheme = st.radio("Palette", ["sequential", "diverging"], horizontal=True, key=f"{self.key}_scheme",
                              help="Diverging: colours run either side of a comparator value (England, region, "
                                   "ICB).",
                              format_func={"sequential": "Sequential",
                                           "diverging": "Diverging around a comparator"}.get)
            comp = None
            if scheme == "diverging":
                if not avail:
                    st.warning("This indicator has no comparator value (England, region, ICB): "
                               "a diverging palette cannot be centred honestly.")
                else:
                    comp = st.selectbox("Centre on", avail, key=f"{self.key}_comparator")
            names = list(C.DIVERGING if scheme == "diverging" else C.SEQUENTIAL)
            default = C.DEFAULT_DIVERGING if scheme == "diverging" else C.DEFAULT_SEQUENTIAL
            pal = st.selectbox("Colours (colour-blind safe)", names, index=names.index(default),
                               key=f"{self.key}_palette_{scheme}")
        else:
            method, k, thresholds, scheme, comp, pal = "quantiles", 3, (), "sequential", None, None
        # the controls that pick the data: the instant restyle acts only while they still
        # show what this run used (a dataset change is painted by its rerun)
        guards = {K["dataset"]: f"Your file: {up.name}" if ds == "upload" and up is not None else labels.get(ds, ds),
                  K["ward_vintage"]: wv_labels[wv_choice], K["by"]: BY_LABEL[by]}
        s.update(_data=data, _data_key=dkey, indicator=ind, period=per, by=by, mode=mode, method=method, k=k,
                 thresholds=thresholds, scheme=scheme, comparator=comp, palette=pal, _error=None, _guards=guards)
        c = self._result(ctx)
        if c and c.get("error"):
            st.warning(md(c["error"]))
        self._report(data)
        self._decile_chart(ctx, data, ind, per)

    def paints(self, ctx: MapContext) -> bool:
        """True when this rerun draws an indicator choropleth (the deprivation layer then
        leaves its LSOA fill out: two stacked choropleths cannot both be read)."""
        c = self._result(ctx) if self.is_on(ctx) else None
        return bool(c) and not c.get("error")

    def _result(self, ctx: MapContext) -> dict | None:
        s = ctx.state.get(self.key, {})
        data = s.get("_data")
        if not s.get("on") or data is None or s.get("_error"):
            return None
        if s["mode"] == "choropleth" and s["method"] == "fixed" and not s["thresholds"]:
            return {"error": "fixed thresholds: give at least one threshold", "cls": [], "colors": [], "rows": [],
                    "object": OBJECTS[data.target][0], "target": data.target, "n_areas": 0}
        return _classified(data, s["_data_key"], ctx.store, ctx.fingerprint, s["indicator"], s["period"],
                           s["method"], int(s["k"]), tuple(s["thresholds"]), s["scheme"], s["palette"],
                           s["comparator"], s["mode"])

    # ---------------------------------------------------------- report + chart
    def _report(self, data: I.IndicatorData) -> None:
        rep = data.report
        n_un = len(rep.unmatched)
        title = (f"Code-vintage report: {rep.matched_codes} of {rep.n_target_areas} areas matched"
                 + (f", {n_un} rows not drawn" if n_un else "")
                 + (f", {len(rep.problems)} problems" if rep.problems else ""))
        # lazy (runs only while open); one open/closed state per dataset, open at first
        # when rows did not match or had problems
        key = f"{KEY}_report_open_" + hashlib.sha256(f"{rep.file}:{rep.matched_codes}:{n_un}".encode()).hexdigest()[:8]
        exp = st.expander(title, expanded=bool(n_un or rep.problems), key=key, on_change="rerun")
        if not exp.open:
            return
        with exp:
            # the report names files by their server path: show only the file name
            st.text(public_text(rep.text(max_list=12)))
            # cells neutralised: the table's own "Download as CSV" must not carry formulas
            for what, rows in (("unmatched", rep.unmatched), ("problems", rep.problems)):
                if not rows:
                    continue
                tab = _public_frame(rows)
                st.dataframe(neutralise_frame(tab.astype(str)), hide_index=True, key=f"{KEY}_{what}",
                             width="stretch")
                st.download_button(f"Download {what} rows (CSV)", safe_csv_bytes(tab),
                                   file_name=f"{Path(rep.file).stem[:60]}_{what}.csv", mime="text/csv",
                                   key=f"{KEY}_{what}_csv")

    def _decile_chart(self, ctx: MapContext, data: I.IndicatorData, ind: str, per: str) -> None:
        try:
            x = _decile_table(data, ctx.state[self.key].get("_data_key", ""), ctx.store, ctx.fingerprint, ind, per,
                              data.target)
        except Exception as e:   # the chart is an extra; never block the map
            st.caption(f"Indicator by IMD decile unavailable: {type(e).__name__}: {md(e)}")
            return
        if x["n_areas"].sum() == 0:
            return
        label = data.meta.get(ind, {}).get("label", ind)
        vals = x["value"].to_numpy(float)
        top = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
        d = C.decimals_for(vals[np.isfinite(vals)]) if np.isfinite(vals).any() else 0
        d = min(max(d, 1), 3)
        rows = []
        for dec, v, n in zip(x["imd_decile"], vals, x["n_areas"]):
            width = 0 if not np.isfinite(v) or top == 0 else max(2, int(150 * abs(v) / top))
            txt = "no areas" if not np.isfinite(v) else f"{v:,.{d}f} ({n} area{'s' if n != 1 else ''})"
            rows.append(f'<div class="lsc-bar-row"><span class="d">{int(dec)}</span>'
                        f'<span class="b" style="width:{width}px;background:#3f6fb0"></span>'
                        f'<span class="n">{esc(txt)}</span></div>')
        basis = ("LSOA national decile" if data.target == "lsoa11" else
                 "national LSOA decile the area's population-weighted IMD 2019 score falls in")
        with st.expander("Indicator by IMD decile (1 = most deprived)", expanded=True):
            # user-supplied label: escaped and inside raw HTML (no markdown parsing of it)
            st.markdown(f'<div class="lsc-bars"><div><b>{esc(label)}</b> by IMD 2019 national decile</div>'
                        + "".join(rows) + "</div>", unsafe_allow_html=True)
            st.caption(f"Grouping: {basis}. Value per decile: "
                       f"{', '.join(sorted(set(m for m in x['method'] if m)))}.")

    # ---------------------------------------------------------- map + legend
    @_timed
    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        c = self._result(ctx)
        if c is None:
            return None
        s = ctx.state[self.key]
        payload = {
            "show": not c.get("error"), "object": c["object"], "cls": c["cls"], "colors": c["colors"],
            "opacity": 0.88, "weight": 0.5 if c["object"] == "lsoa" else 0.9,
            "stroke": "#ffffff" if c["object"] == "lsoa" else "#3a3a3a",
            "missing_style": MISSING_STYLE, "suppressed_style": C.SUPPRESSED_STYLE,
            "extra": extra_geometry_url(ctx.store, ctx.fingerprint) if c["object"] in EXTRA_OBJECTS else None,
        }
        if payload["show"]:         # the ward hover shows the indicator's value while it is drawn
            try:
                payload["hover"] = hover_url(s["_data"], s["_data_key"], ctx.store, ctx.fingerprint, s["indicator"],
                                             s["period"])
            except Exception:       # no hover values: the map still paints
                payload["hover"] = None
        payload["v"] = hashlib.sha256(json.dumps([payload, s.get("_data_key"), s.get("indicator"), s.get("period")],
                                                 default=str).encode()).hexdigest()[:10]
        if ctx.interactive and payload["show"]:
            payload["instant"] = self._instant(ctx, s)
        return part_group(self.key, payload)

    def _instant(self, ctx: MapContext, s: dict) -> dict | None:
        """What the map runtime needs to restyle from the Indicator / Classes controls
        before the rerun (None until the file for these settings is built)."""
        data, mode = s["_data"], s["mode"]
        # one file serves every non-fixed method (switching between them keeps the file)
        settings = (s["period"], "fixed" if s["method"] == "fixed" else "any", int(s["k"]), tuple(s["thresholds"]),
                    s["scheme"], s["palette"], s["comparator"], mode)
        url = instant_url(ctx, data, s["_data_key"], settings)
        if url is None:
            return None
        labels: dict = {}
        for ind in data.indicators():
            lab = str(data.meta.get(ind, {}).get("label", ind))
            labels[lab] = None if lab in labels else ind     # an ambiguous label restyles nothing
        # controls by widget key (layers/controls.py: the map frame finds them by key)
        controls = {K["indicator"]: {k: v for k, v in labels.items() if v is not None}}
        guards = s.get("_guards") or {}
        if mode == "bivariate":
            return {"url": url, "names": [K["indicator"]], "controls": controls, "key": s["indicator"],
                    "guards": guards}
        controls[K["classes"]] = {C.METHODS[m]: m for m in C.METHODS}
        return {"url": url, "names": [K["indicator"], K["classes"]], "controls": controls,
                "key": f"{s['indicator']}|{s['method']}", "guards": guards}

    @_timed
    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        c = self._result(ctx)
        s = ctx.state.get(self.key, {})
        data = s.get("_data")
        if c is None or data is None:
            return []
        meta = data.meta.get(s["indicator"], {})
        unit = meta.get("unit") or ""
        title = f"{meta.get('label', s['indicator'])}" + (f" ({unit})" if unit else "")
        pol = meta.get("polarity", "neutral")
        pol_txt = {"higher_is_worse": "higher is worse", "higher_is_better": "higher is better"}.get(
            pol, "polarity not configured")
        vintage = f"Period: {s['period']} · drawn on {OBJECTS[data.target][3]}"
        source = public_text(meta.get("source") or data.source)
        n_missing = int(c.get("n_missing", 0))
        n_supp = int(c.get("n_suppressed", 0))
        items: list[LegendItem] = []
        if c.get("error"):
            return [LegendEntry(title=title, items=[LegendItem(c["error"])], vintage=vintage, source=source)]
        grid = None
        if s["mode"] == "bivariate":
            grid = self._bivariate_grid(c, pol)
            note = ("Bivariate: indicator tertile (across = worse) × share of residents in Core20 "
                    "(IMD 2019 national deciles 1-2; 20% is England's share by definition). Dark blue = "
                    "worst third of the indicator in majority-Core20 areas. " + f"Polarity: {pol_txt}.")
        else:
            for r in c["rows"]:
                if r["kind"] == "class":
                    items.append(LegendItem(f"{r['label']}  ({r['count']})", fill=r["colour"], stroke="#666666",
                                            stroke_width=0.5))
            pol_note = ("darker/warmer = worse" if pol in ("higher_is_worse", "higher_is_better") else
                        "colours show low to high, not better or worse: set polarity in config/indicators.yaml")
            bits = [f"{C.METHODS[s['method']]}", f"polarity: {pol_txt} ({pol_note})"]
            if c.get("centre") is not None:
                d = int(c.get("decimals", 1))
                bits.append(f"diverging around {s['comparator']} = {c['centre']:,.{max(d, 1)}f} "
                            f"({c.get('centre_how', '')})")
            bits.extend(c.get("notes") or [])
            note = "; ".join(bits) + "."
        items.append(LegendItem(f"Suppressed ({n_supp})", fill=C.SUPPRESSED_STYLE["fillColor"],
                                stroke=C.SUPPRESSED_STYLE["color"], dash=C.SUPPRESSED_STYLE["dashArray"]))
        items.append(LegendItem(f"No data ({n_missing})", fill=NODATA_SWATCH, stroke=MISSING_STYLE["color"],
                                dash=MISSING_STYLE["dashArray"], hatch=True))
        return [LegendEntry(title=title, items=items, vintage=vintage, source=source, note=note, grid=grid)]

    @staticmethod
    def _bivariate_grid(c: dict, pol: str) -> dict:
        """The 3 x 3 key: rows = Core20 level (top = 50%+), columns = indicator tertile
        (left = best third), each cell its colour and number of areas."""
        d = int(c.get("decimals", 1))
        b, lo = c["tertile_bins"], c["tertile_min"]
        rng = [f"{lo:,.{d}f}–{b[0]:,.{d}f}"] + [f">{b[i - 1]:,.{d}f}–{b[i]:,.{d}f}" for i in range(1, len(b))]
        if pol == "higher_is_better":
            rng = rng[::-1]
        tert = ["best third", "middle third", "worst third"]
        rows = (2, 1, 0)
        return {"colors": [[c["colors"][r * 3 + k] for k in range(3)] for r in rows],
                "counts": [[int(c["cell_counts"][r * 3 + k]) for k in range(3)] for r in rows],
                "rows": [C.CORE20_LEVELS[r] for r in rows],
                "cols": [f"{tert[k]} ({rng[k]})" if k < len(rng) else tert[k] for k in range(3)],
                "y_title": "Share of residents in Core20", "x_title": "Indicator: worse"}

    @_timed
    def notes(self, ctx: MapContext) -> list[str]:
        s = ctx.state.get(self.key, {})
        data = s.get("_data")
        if not self.is_on(ctx) or data is None or s.get("_error"):
            return []
        rep = data.report
        out = []
        if rep.unmatched:
            heads = {}
            for u in rep.unmatched:
                h = u["reason"].split(":")[0].split(" — ")[0].split(" (")[0][:90]
                heads[h] = heads.get(h, 0) + 1
            top = "; ".join(f"{n} × {h}" for h, n in sorted(heads.items(), key=lambda kv: -kv[1])[:3])
            out.append(public_text(f"Indicator: {rep.matched_codes} of {rep.n_target_areas} areas matched; "
                       f"{len(rep.unmatched)} file rows not drawn ({top}); the indicator's code-vintage report lists them."))
        return out


def _public_frame(rows: list[dict]) -> pd.DataFrame:
    """A report table with server paths cut to file names (layers.base.public_text)."""
    df = pd.DataFrame(rows)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: public_text(v) if isinstance(v, str) else v)
    return df


# ------------------------------------------------------------------ state without widgets
def state_from_view(view, store, fp: str = "") -> dict:
    """The layer's state dict (as `sidebar` leaves it in ctx.state["indicators"]) built from a
    geo.viewstate.ViewState instead of widgets, for exports and snapshots outside the app.

    Mirrors what a shared link gives in the app (layers/share.py seeds the same widgets):
    `ind` = "dataset:indicator" (or a bare indicator of the first dataset), `cls`, `k`
    (clamped to the slider's 3-7), `brk` for fixed breaks; everything else at the widgets'
    defaults (latest period, "as in the file", choropleth, sequential default palette,
    best-match ward boundaries). Raises GeoError when the dataset or indicator is not there.
    """
    on = view.layer_on(KEY, IndicatorsLayer.default_on)
    s: dict = {"on": on}
    if not on:
        return s
    labels = I.builtin_labels()
    ds, sep, ind = (view.get("ind") or "").partition(":")
    if not sep:                                   # bare indicator id (or none): first dataset
        ds, ind = next(iter(labels)), ds
    if ds not in labels:
        raise GeoError(f"indicator dataset {ds!r} is not available (uploaded files exist only in the app)")
    data = _builtin(store, fp, ds, None)
    dkey = f"{ds}:None"
    inds = data.indicators()
    if not inds:
        raise GeoError(f"indicator dataset {ds!r} has nothing that matches the map's areas")
    if not ind:
        ind = inds[0]
    if ind not in inds:
        raise GeoError(f"indicator {ind!r} is not in the dataset {ds!r}")
    periods = data.periods(ind)
    method = view.get("cls") if view.get("cls") in C.METHODS else next(iter(C.METHODS))
    k, thresholds = K_DEFAULT, ()
    if method == "fixed":
        thresholds = tuple(sorted({float(b) for b in (view.get("brk") or ())}))
    elif view.get("k") is not None:
        k = min(max(int(view.get("k")), K_RANGE[0]), K_RANGE[1])
    s.update(_data=data, _data_key=dkey, indicator=ind, period=periods[-1], by="native", mode="choropleth",
             method=method, k=k, thresholds=thresholds, scheme="sequential", comparator=None,
             palette=C.DEFAULT_SEQUENTIAL, _error=None)
    return s


# ------------------------------------------------------------------ ward profile
def ward_indicator_table(ctx: MapContext, wd24cd: str) -> pd.DataFrame:
    """The ward's indicators with CIs and comparators (pure logic in geo.indicators)."""
    datasets = [_builtin(ctx.store, ctx.fingerprint, "census_ward", "2024"),
                _builtin(ctx.store, ctx.fingerprint, "fingertips_lad", None)]
    return I.ward_profile_rows(datasets, wd24cd, ctx.store)


LAYER = IndicatorsLayer()
provide("indicators.ward_table", ward_indicator_table)   # the ward profile's table (ctx.need)
