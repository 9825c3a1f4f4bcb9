"""Deprivation layer: every LSOA coloured by IMD (or a domain) decile, Core20 outlined."""
from __future__ import annotations

import streamlit as st

from geo import viewfields as VF
from geo.store import MEASURE_LABELS, MEASURES
from layers.base import (CORE20_CASING, NODATA_FILL, NODATA_LINE, NODATA_SWATCH, Layer, LegendEntry, LegendItem,
                         MapContext, hot, map_only, whole_page, widget_default)
from layers.controls import DEPRIVATION as K
from layers.data import CHANGE_CLASSES, lsoa_change, lsoa_classes
from render.map import part_group
from render.static_files import LSOA_OBJECT

VINTAGES = {2019: "IoD2019 (2011 LSOAs)", 2025: "IoD2025 (2021 LSOAs)"}
SOURCES = {
    2019: "English Indices of Deprivation 2019 (MHCLG); LSOA Dec 2011 boundaries (ONS)",
    2025: "English Indices of Deprivation 2025 (MHCLG); LSOA Dec 2021 boundaries (ONS)",
}


HELP = {
    "on": "Colours every LSOA (small area of about 1,500 people) by its deprivation decile.",
    "vintage": "IoD2019 ranks 2011 LSOAs; IoD2025 (the current edition, Oct 2025) ranks 2021 LSOAs. "
               "Ranks of the two editions are not directly comparable. See 'About the data'.",
    "measure": "The overall Index of Multiple Deprivation, or one of its domains (income, employment...).",
    "local": "National: deciles of all LSOAs in England (1 = most deprived 10%). Local: the footprint's LSOAs "
             "ranked among themselves, an extra view only.",
    "core20": "Core20: the most deprived 20% of LSOAs in England (national IMD deciles 1-2), the Core20 "
              "of NHS England's Core20PLUS5. Always national deciles.",
}

DECILE_LABELS = {False: "National (England)", True: "Local (within the footprint) - extra view"}
CHANGE_PALETTE = ["#b35806", "#f1a340", "#fee0b6", "#f0f0f0", "#d8daeb", "#998ec3", "#542788"]   # PuOr
CHANGE_FLAG = "#333333"
DEFAULT_VINTAGE = 2025          # IoD2025 on 2021 LSOAs: the current edition


def _vintage(s: dict) -> int:
    return int(s.get("vintage", DEFAULT_VINTAGE))


@hot
@st.cache_resource(show_spinner=False, max_entries=4)
def all_classes_url(_store, fp: str) -> str:
    """Every (vintage, measure, decile basis) class array and each vintage's Core20 list
    in one static file (static/gen/depclasses.<sha>.json, ~70 KB, fetched by the map
    frame after its first paint). The map runtime restyles from it the moment a
    deprivation control changes, before the rerun confirms (static/js/paint_deprivation.js)."""
    import json
    from render.static_files import _url, write_hashed
    out = {"cls": {}, "core20": {}}
    for v in VINTAGES:
        out["core20"][str(v)] = lsoa_classes(_store, fp, v, "imd", False)["core20"]
        for m in MEASURES:
            for local in (False, True):
                out["cls"][f"{v}|{m}|{int(local)}"] = lsoa_classes(_store, fp, v, m, local)["cls"]
    return _url(write_hashed("depclasses", json.dumps(out, separators=(",", ":")).encode()))


class DeprivationLayer(Layer):
    key = "deprivation"
    fields = VF.DEPRIVATION         # measure, vintage, deciles, core20: one widget key each
    label = "Deprivation (LSOAs)"
    order = 10
    sidebar_part = True       # the vintage reruns the whole page, the rest the map and legend

    def _cfg(self, ctx: MapContext) -> dict:
        return ctx.config.get("deprivation", {})

    def sidebar(self, ctx: MapContext) -> None:
        cfg = self._cfg(ctx)
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="deprivation_on", help=HELP["on"],
                              **widget_default("deprivation_on", value=True), **map_only(self.key))
        s["vintage"] = st.radio("Vintage", list(VINTAGES), format_func=VINTAGES.get,
                                key=K["vintage"], horizontal=False, help=HELP["vintage"],
                                **widget_default(K["vintage"], index=list(VINTAGES).index(
                                    int(cfg.get("default_vintage", DEFAULT_VINTAGE)))), **whole_page())
        s["measure"] = st.selectbox("Measure", MEASURES, format_func=MEASURE_LABELS.get,
                                    key=K["measure"], help=HELP["measure"],
                                    **widget_default(K["measure"],
                                                     index=MEASURES.index(cfg.get("default_measure", "imd"))),
                                    **map_only(self.key))
        s["local"] = st.radio("Deciles", [False, True], key=K["deciles"],
                              format_func=DECILE_LABELS.get, horizontal=False, help=HELP["local"],
                              **map_only(self.key))
        s["core20"] = st.checkbox("Outline Core20 LSOAs (IMD national deciles 1-2)",
                                  key="deprivation_core20", help=HELP["core20"], **widget_default("deprivation_core20", value=True),
                                  **map_only(self.key))
        s["change"] = st.checkbox("Change since IoD2019 (national decile then and now, 2021 LSOAs)",
                                  key="deprivation_change", **widget_default("deprivation_change", value=False),
                                  help="IoD2025 decile minus IoD2019 decile per 2021 LSOA, through the ONS "
                                       "2011->2021 lookup; split or merged LSOAs are outlined.",
                                  **map_only(self.key))

    @staticmethod
    def _change_on(ctx: MapContext) -> bool:
        s = ctx.state.get("deprivation", {})
        return bool(s.get("change")) and not bool(s.get("local"))

    def _classes(self, ctx: MapContext) -> dict:
        s = ctx.state.get(self.key, {})
        return lsoa_classes(ctx.store, ctx.fingerprint, _vintage(s),
                            s.get("measure", "imd"), bool(s.get("local", False)))

    @staticmethod
    def _under_choropleth(ctx: MapContext) -> str | None:
        """The label of another choropleth drawn this rerun (the indicator layer or access
        gaps), else None: the LSOA fill and its legend step aside (two stacked
        choropleths cannot both be read, and a translucent one over the deciles no longer
        matches its own legend); the Core20 outline stays on top as the deprivation
        cross-view."""
        import importlib
        for key, mod in (("indicators", "layers.indicators"), ("access", "layers.access")):
            if not ctx.state.get(key, {}).get("on"):
                continue
            try:
                layer = importlib.import_module(mod).LAYER
                if layer.paints(ctx):
                    return layer.label
            except Exception:
                continue
        return None

    def _under_indicator(self, ctx: MapContext) -> bool:      # the older name, kept for callers
        return self._under_choropleth(ctx) is not None

    def _core20_item(self, cfg: dict) -> LegendItem:
        return LegendItem("Core20 LSOA (IMD national decile 1-2)", stroke=cfg.get("core20_outline", "#ff7f00"),
                          stroke_width=2.0, casing=CORE20_CASING)

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        cfg = self._cfg(ctx)
        s = ctx.state[self.key]
        if self._change_on(ctx):
            ch = lsoa_change(ctx.store, ctx.fingerprint, s.get("measure", "imd"))
            return part_group(self.key, {
                "show": True, "fill": not self._under_choropleth(ctx), "cls": ch["cls"], "geom": "lsoa21",
                "core20": ch["flagged"], "core20_outline": True, "core20_color": CHANGE_FLAG,
                "palette": CHANGE_PALETTE, "nodata_color": NODATA_FILL,
                "opacity": float(cfg.get("opacity", 0.85)), "instant": None})
        c = self._classes(ctx)
        return part_group(self.key, {
            "show": True, "fill": not self._under_choropleth(ctx), "cls": c["cls"], "core20": c["core20"],
            "geom": c["geom"],          # the vintage's LSOA polygons (2011 / 2021 object)
            "core20_outline": bool(s.get("core20", True)),
            "palette": cfg["palette"], "nodata_color": NODATA_FILL,
            "core20_color": cfg.get("core20_outline", "#ff7f00"), "core20_casing": CORE20_CASING,
            "opacity": float(cfg.get("opacity", 0.85)),
            # instant restyle: the sidebar controls (by widget key) -> keys, this round's choice. Only
            # in the app: a standalone export has no controls, and its file would be fetched
            # from a server path that does not exist there
            "instant": None if not ctx.interactive else {"url": all_classes_url(ctx.store, ctx.fingerprint),
                        "names": [K["vintage"], K["measure"], K["deciles"]],      # widget keys: layers/controls.py
                        "controls": {K["measure"]: {MEASURE_LABELS[m]: m for m in MEASURES},
                                     K["vintage"]: {lab: v for v, lab in VINTAGES.items()},
                                     K["deciles"]: {lab: int(k) for k, lab in DECILE_LABELS.items()}},
                        "geoms": {str(v): LSOA_OBJECT[v] for v in VINTAGES},
                        "key": f"{_vintage(s)}|{s.get('measure', 'imd')}|"
                               f"{int(bool(s.get('local', False)))}"},
        })

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        cfg = self._cfg(ctx)
        s = ctx.state[self.key]
        if self._change_on(ctx) and not self._under_choropleth(ctx):
            return self._change_legend(ctx)
        vintage = _vintage(s)
        local = bool(s.get("local", False))
        pal = cfg["palette"]
        where = "LSC" if getattr(ctx.store, "is_lsc", True) else getattr(ctx.store, "name", "the footprint")
        kind = f"local decile (within {where})" if local else "national decile"
        other = self._under_choropleth(ctx)
        if other:
            items = [self._core20_item(cfg)] if s.get("core20", True) else []
            what = other.split(" (")[0]
            return [LegendEntry(
                title="Core20 LSOAs (IMD national deciles 1-2)" if items else f"{MEASURE_LABELS[s.get('measure', 'imd')]}",
                items=items, vintage=VINTAGES[vintage], source=SOURCES[vintage],
                note=f"The LSOA deprivation colours are hidden while the {what} layer is shown "
                     f"(switch {what} off to see them again)" + ("; the Core20 outline stays on top of it."
                                                                if items else "."))]
        items = [LegendItem(f"{d}" + (" most deprived" if d == 1 else " least deprived" if d == 10 else ""),
                            fill=pal[d - 1]) for d in range(1, 11)]
        c = self._classes(ctx)
        if c["n_polygons_without_value"]:
            items.append(LegendItem(f"No data: no value on this boundary ({c['n_polygons_without_value']})",
                                    fill=NODATA_SWATCH, stroke=NODATA_LINE, hatch=True))
        if s.get("core20", True):
            items.append(self._core20_item(cfg))
        return [LegendEntry(
            title=f"{MEASURE_LABELS[s.get('measure', 'imd')]}: {kind}",
            items=items,
            vintage=VINTAGES[vintage],
            source=SOURCES[vintage],
            note=(f"Local deciles rank the {c['n_total']:,} LSOAs of {where} of this vintage among themselves; "
                  "Core20 always uses national IMD deciles." if local else ""),
        )]

    def _change_legend(self, ctx: MapContext) -> list[LegendEntry]:
        s = ctx.state[self.key]
        ch = lsoa_change(ctx.store, ctx.fingerprint, s.get("measure", "imd"))
        items = [LegendItem(f"{lab} ({ch['counts'][lab]:,})", fill=CHANGE_PALETTE[i])
                 for i, lab in enumerate(CHANGE_CLASSES)]
        if any(c == 0 for c in ch["cls"]):
            items.append(LegendItem("no 2019 value", fill=self._cfg(ctx).get("nodata_color", "#bdbdbd")))
        items.append(LegendItem(f"split, merged or redrawn in 2021 ({ch['n_flagged']:,}): 2019 value from "
                                "its 2011 LSOA(s)", stroke=CHANGE_FLAG, stroke_width=2))
        return [LegendEntry(
            title=f"{MEASURE_LABELS[s.get('measure', 'imd')]}: change in national decile since IoD2019",
            items=items,
            vintage="IoD2019 (LSOA 2011) to IoD2025 (LSOA 2021), through the ONS LSOA 2011->2021 lookup",
            source="English Indices of Deprivation 2019 and 2025 (MHCLG); ONS LSOA 2011 to 2021 lookup",
            note="Deciles rank LSOAs against the rest of England in each edition: a move is relative, "
                 "not a measured rise or fall in deprivation. A split LSOA takes its parent's 2019 decile; "
                 "a merged one the population-weighted mean of its parents.")]

    def notes(self, ctx: MapContext) -> list[str]:
        if not self.is_on(ctx):
            return []
        c = self._classes(ctx)
        if not c["n_not_drawn"]:
            return []
        geo = "2011" if _vintage(ctx.state[self.key]) == 2019 else "2021"
        return [f"IoD{_vintage(ctx.state[self.key])}: {c['n_not_drawn']} of {c['n_total']:,} LSOAs ({geo}) "
                f"have no polygon in the store and are not drawn (rebuild the store: `make store`)."]


LAYER = DeprivationLayer()
