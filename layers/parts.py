"""The page in parts that rerun on their own (keyed `st.fragment`s), so a click reruns
only what it changes (issue #16):

    part      what it draws                               rerun alone by
    sidebar_area  the ICB and Area selectors, ward search (a change there is never this part alone)
    map       the map (st_folium) and the layers' notes   area, ward search, map click, map-only widgets
    profile   the ward profile (or its hint)              ward search, map click, Close ward profile
    legend    the legend                                  map-only widgets; area, when the legend
                                                          shows something of it (legend_follows_area)
    tables    the ward table and the layers' panels       area

A widget callback asks for its parts with `rerun(...)`; everything else (the ICB, the
layers' own widgets, uploads...) still reruns the whole page. On a full run the parts
run inline, in page order, exactly as before; on a part-only run each part first
brings the shared MapContext up to date (area, selected ward, messages, per-run memos)
and afterwards writes the URL state (layers/share.py) and its own line in
$LSC_TIMING_LOG ("scope": the part's name; a full run logs "app"). Layer sidebars that
declare `sidebar_part = True` (their widgets only change what the map and legend show,
and pass `**layers.base.map_only(layer.key)`) are drawn in a part of their own, so toggling
one reruns that layer's widgets, the map and the legend, not the tables or the rest of
the sidebar.
"""
from __future__ import annotations

import os
import time

import streamlit as st

from layers import base, panels, view
from layers.base import MapContext, md

MAP_PARTS = ("map", "legend")
AREA_PARTS = ("map", "legend", "tables")
WARD_PARTS = ("map", "profile")
# Sidebar sections that follow the view (the planner shows the area and plans in it; the
# open export section prepares this view's files, the ward profile's among them): while
# one of these widget keys is on, every click reruns the whole page.
# The presentation title (outside every part) names the area and the view: likewise.
SIDEBAR_FOLLOWS = ("planner_on", "share_export_open", "share_present")


def part_run() -> bool:
    """True while this script run is a part-only (fragment) run."""
    from layers import _st_private
    return _st_private.fragment_run()


def enabled() -> bool:
    """Part-only reruns happen where a browser keeps the rest of the page: under a
    Streamlit server. AppTest builds its element tree from each run's own messages, so
    there every click reruns the whole page unless $LSC_PARTS=1 (tests of the parts
    themselves); $LSC_PARTS=0 turns them off anywhere."""
    from layers import _st_private
    flag = os.environ.get("LSC_PARTS", "")
    if not _st_private.supported():      # a fragment-only run could not be told apart
        return False
    if flag in ("0", "1"):
        return flag == "1"
    return not _st_private.under_apptest()


def rerun(*keys: str, escalate: bool = False) -> None:
    """From a widget callback: rerun only the parts `keys`. Otherwise (parts off, the
    map-first page still showing, a part not drawn yet) the click's own default: the
    whole page for a widget outside every part; with `escalate` (a widget inside a
    part, whose default is that part alone) the whole page too. While a sidebar section
    that follows the view is open (SIDEBAR_FOLLOWS), the whole page."""
    ss = st.session_state
    if enabled() and not view.first_paint_phase() and not any(ss.get(k) for k in SIDEBAR_FOLLOWS):
        from streamlit.errors import StreamlitAPIException
        try:
            st.rerun(list(keys))
        except StreamlitAPIException:     # e.g. "No fragment found for target": not drawn yet
            pass
    if escalate:
        st.rerun(scope="app")


LEGEND_FOLLOWS_AREA = "_lsc_legend_follows_area"


def area_changed(kind: str | None = None) -> None:
    """After an area change (view._on_area_change) to an area of `kind`: the map and
    tables, and the legend only if it shows something of the area: the legend drawn last
    said so (a layer's legend_follows_area, recorded by legend_part), or the new area is
    a custom one (its outline entry). Otherwise the legend stays as it is."""
    follows = st.session_state.get(LEGEND_FOLLOWS_AREA, True) or kind == "custom"
    rerun(*(AREA_PARTS if follows else ("map", "tables")), escalate=True)


def whole_page() -> None:
    """From the callback of a widget in a part: the whole page reruns (e.g. a new ICB)."""
    if enabled():
        st.rerun(scope="app")


def map_only_changed(layer_key: str) -> None:
    """The callback of base.map_only: that layer's sidebar part, the map and the legend."""
    rerun(f"sidebar_{layer_key}", *MAP_PARTS, escalate=True)


class _Part:
    """`with _Part(name, ctx, layers):` around a part's body (see the module doc)."""

    def __init__(self, name: str, ctx: MapContext, layers: list):
        self.name, self.ctx, self.layers = name, ctx, layers

    def __enter__(self):
        self.alone = part_run()
        if self.alone:
            self.t0, self.cpu0 = time.perf_counter(), time.thread_time()
            base.new_run()
            refresh(self.ctx)
        return self

    def __exit__(self, exc_type, *exc):
        if self.alone and exc_type is None:
            from layers import share
            with view.timed("write_url_state"):
                share.write_url_state(self.ctx, self.layers)
            view.log_timing(self.t0, self.cpu0, scope=self.name)
        return False


def refresh(ctx: MapContext) -> None:
    """The parts of ctx a part-only run may have changed since the full run that built it."""
    view.set_area(ctx, st.session_state.get("area"))
    ctx.selected_ward = st.session_state.get("selected_ward")
    ctx.messages[:] = getattr(ctx, "_sidebar_messages", ctx.messages)


@st.fragment(key="map")
def map_part(ctx: MapContext, layers: list, height: int) -> None:
    with _Part("map", ctx, layers) as p:
        if not p.alone:          # what the sidebar and title said: shown again on each map rerun
            ctx._sidebar_messages = list(ctx.messages)
        view.draw_map_into(st.container(), ctx, layers, height)
        with view.timed("notes"):
            for layer in layers:
                for note in layer.notes(ctx):
                    st.info(md(note))


def _close_profile() -> None:
    st.session_state["selected_ward"] = None
    rerun(*WARD_PARTS, escalate=True)


@st.fragment(key="profile")
def profile_part(ctx: MapContext, layers: list, first_paint: bool) -> None:
    with _Part("profile", ctx, layers) as p:
        if p.alone:
            first_paint = view.first_paint_phase()
        if ctx.selected_ward and not first_paint:
            with view.timed("membership"):
                membership = view.membership(layers, ctx)
            st.button("Close ward profile", key="close_profile", on_click=_close_profile)
            with view.timed("ward_profile"):
                panels.ward_profile(ctx, ctx.selected_ward, membership)
            st.divider()
        else:
            st.caption("Click a ward on the map (or find it by name) to open its profile.")


@st.fragment(key="legend")
def legend_part(ctx: MapContext, layers: list) -> None:
    with _Part("legend", ctx, layers), view.timed("legend"):
        panels.draw_legend([e for layer in layers for e in layer.legend(ctx)])
        st.session_state[LEGEND_FOLLOWS_AREA] = any(layer.legend_follows_area(ctx) for layer in layers)


@st.fragment(key="tables")
def tables_part(ctx: MapContext, layers: list) -> None:
    with _Part("tables", ctx, layers):
        with view.timed("membership"):
            membership = view.membership(layers, ctx)
        with view.timed("ward_table"):
            panels.ward_table_panel(ctx, membership)
        for layer in layers:   # optional per-layer panels under the map (e.g. the access-gap table)
            if hasattr(layer, "panel"):
                with view.timed(f"{layer.key}.panel"):
                    layer.panel(ctx)


def area_sidebar(ctx: MapContext, layers: list, base_store, base_fp: str) -> None:
    """The ICB and Area selectors and the ward search, in a part of their own: a widget
    outside every part starts a whole-page run in the browser (every element of the page
    marked stale, then drawn fresh) before its callback narrows it to the parts it
    changes; inside a part, only those parts are touched. Their callbacks name what
    reruns (view._on_area_change, _on_ward_search; a new ICB: the whole page)."""
    if not enabled():
        view.area_and_search(ctx, base_store, base_fp)
        return
    _area_part(ctx, layers, base_store, base_fp)


@st.fragment(key="sidebar_area")
def _area_part(ctx: MapContext, layers: list, base_store, base_fp: str) -> None:
    with _Part("sidebar_area", ctx, layers):
        view.area_and_search(ctx, base_store, base_fp)


_SIDEBAR_PARTS: dict = {}


def layer_sidebar(layer, ctx: MapContext, layers: list) -> None:
    """layer.sidebar(ctx), in a part of its own when the layer declares `sidebar_part`."""
    if not getattr(layer, "sidebar_part", False) or not enabled():
        layer.sidebar(ctx)
        return
    fn = _SIDEBAR_PARTS.get(layer.key)
    if fn is None:
        def body(layer, ctx, layers):
            with _Part(f"sidebar_{layer.key}", ctx, layers) as p:
                layer.sidebar(ctx)
                if p.alone:     # the map part starts from these messages
                    ctx._sidebar_messages = [m for m in getattr(ctx, "_sidebar_messages", [])]
        body.__qualname__ = body.__name__ = f"sidebar_{layer.key}"
        fn = _SIDEBAR_PARTS[layer.key] = st.fragment(body, key=f"sidebar_{layer.key}")
    fn(layer, ctx, layers)
