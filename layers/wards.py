"""Wards layer: May 2024 ward outlines, names when zoomed in, hover figures."""
from __future__ import annotations

import streamlit as st

from layers.base import Layer, LegendEntry, LegendItem, MapContext, widget_default
from layers.map import part_group


class WardsLayer(Layer):
    key = "wards"
    label = "Wards (May 2024)"
    order = 20

    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="wards_on", **widget_default("wards_on", value=True))
        s["labels"] = st.checkbox("Ward names when zoomed in", key="wards_labels", **widget_default("wards_labels", value=True),
                                  disabled=not s["on"])

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        vintage = int(ctx.choice("deprivation", "vintage", 2019))
        s = ctx.state[self.key]
        return part_group(self.key, {
            "show": True, "labels": bool(s.get("labels", True)),
            "label_min_zoom": float(ctx.config.get("wards", {}).get("label_min_zoom", 11.5)),
            "stats": ctx.static.get(f"stats{vintage}"),
        })

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        vintage = int(ctx.choice("deprivation", "vintage", 2019))
        return [LegendEntry(
            title="Electoral wards",
            # a click opens a profile only in the app (not in an exported map)
            items=[LegendItem("ward boundary (hover for figures" + (", click for profile)" if ctx.interactive
                                                                   else ")"), stroke="#2b2b2b",
                              stroke_width=1), LegendItem("district boundary", stroke="#555555",
                                                          stroke_width=1.5)],
            vintage=f"Wards May 2024 (BSC); figures IoD{vintage} by LSOA best fit (postcodes)",
            source="ONS Open Geography Portal (OGL); LSOA->ward best fit derived from Code-Point Open",
            note="LSOAs do not nest in wards: ward figures are approximate.",
        )]


LAYER = WardsLayer()
