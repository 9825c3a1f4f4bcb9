"""Wards layer: May 2024 ward outlines, names when zoomed in, hover figures."""
from __future__ import annotations

import streamlit as st

from geo import viewfields as VF
from layers.base import Layer, LegendEntry, LegendItem, MapContext, map_only, widget_default
from render.map import part_group


class WardsLayer(Layer):
    key = "wards"
    fields = VF.WARDS               # labels
    label = "Wards (May 2024)"
    order = 20
    sidebar_part = True       # its widgets change only the map and legend (layers/parts.py)

    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="wards_on", **widget_default("wards_on", value=True),
                              **map_only(self.key))
        s["labels"] = st.checkbox("Ward names when zoomed in", key="wards_labels", **widget_default("wards_labels", value=True),
                                  disabled=not s["on"], **map_only(self.key))

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        vintage = int(ctx.choice("deprivation", "vintage", 2025))
        s = ctx.state[self.key]
        return part_group(self.key, {
            "show": True, "labels": bool(s.get("labels", True)),
            "label_min_zoom": float(ctx.config.get("wards", {}).get("label_min_zoom", 11.5)),
            "stats": ctx.static.get(f"stats{vintage}"),
        })

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        vintage = int(ctx.choice("deprivation", "vintage", 2025))
        if getattr(ctx.store, "approximate_wards", False):
            vint = (f"Wards May 2024: APPROXIMATE shapes dissolved from LSOA 2021 by the ONS best fit "
                    f"(not the official ward boundary); figures IoD{vintage} by LSOA best fit")
            src = "ONS LSOA (2021) to ward (May 2024) best-fit lookup and LSOA Dec 2021 boundaries (OGL)"
            note = ("Outside LSC the official ward polygons are not staged: each ward is drawn as the "
                    "LSOAs that best-fit to it, so its edges follow LSOA boundaries. LSOAs do not nest "
                    "in wards: ward figures are approximate.")
        else:
            vint = f"Wards May 2024 (BSC); figures IoD{vintage} by LSOA best fit (postcodes)"
            src = "ONS Open Geography Portal (OGL); LSOA->ward best fit derived from Code-Point Open"
            note = "LSOAs do not nest in wards: ward figures are approximate."
        return [LegendEntry(
            title="Electoral wards" + (" (approximate shapes)" if getattr(ctx.store, "approximate_wards", False) else ""),
            # a click opens a profile only in the app (not in an exported map)
            items=[LegendItem("ward boundary (hover for figures" + (", click for profile)" if ctx.interactive
                                                                   else ")"), stroke="#2b2b2b",
                              stroke_width=1), LegendItem("district boundary", stroke="#555555",
                                                          stroke_width=1.5)],
            vintage=vint, source=src, note=note,
        )]

    def notes(self, ctx: MapContext) -> list[str]:
        if not self.is_on(ctx) or not getattr(ctx.store, "approximate_wards", False):
            return []
        return ["Ward shapes here are APPROXIMATE (built from LSOA 2021 by the ONS best-fit lookup), "
                "not the official May 2024 ward boundaries."]


LAYER = WardsLayer()
