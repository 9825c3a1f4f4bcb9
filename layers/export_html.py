"""The current view as one standalone offline HTML page: the layers' side of it.

`standalone_html(store, state, ctx=None, layers=None)` draws the SAME map the app shows:
the constant base map (render.map.base_map), the commit round, every visible layer's own
feature group, legend entries and notes; render.export_html.page_html inlines every asset
and adds the title bar, legend, north arrow, sources and attribution. The same page is
what `python -m geo snapshot` screenshots (render/png.py).

It lives in layers/ because it reads the layers (their groups, legends, and the app's
cached look-ups in layers.data); everything it lays out is in render/.
"""
from __future__ import annotations

from geo import viewstate as VS
from geo.export import area_name
from render.export_html import page_html
from render.map import base_map, commit_group, localise_assets


def _view_payload(ctx, state: VS.ViewState) -> dict:
    from layers.data import area_index, ward_bounds, ward_lookup
    from layers.view import fit_bounds
    store, fp = ctx.store, ctx.fingerprint
    if state.has_view:
        e = 1e-6
        fit = {"key": "url", "b": [[state.lat - e, state.lon - e], [state.lat + e, state.lon + e]],
               "max_zoom": state.z}
    else:
        b = ward_bounds(store, fp, state.ward) if state.ward else None
        fit = {"key": "b", "b": b or fit_bounds(store, fp, state.area_kind, state.area_code)}
    sel = ward_lookup(store, fp)[3].get(state.ward, -1) if state.ward else -1
    kind = state.area_kind
    if kind == "custom":                # a saved custom area: its LSOAs outlined (layers/areas.py)
        from layers import areas as custom
        area = {"kind": "lsoa21", "idx": custom.lsoa_index(store, ctx.area)}
    else:
        area = {"kind": "districts" if kind == "district" else kind,
                "idx": area_index(store, fp, kind, state.area_code)}
    return {"geo": ctx.static["geo"], "area": area, "sel": sel, "fit": fit, "v": "standalone"}


def _split_seeds(ctx, groups) -> list[str]:
    """The split geometry files (render.static_files.SPLIT_OBJECTS) this view draws: the
    2011 LSOAs under IoD2019, the access layer, or an indicator on 2011 LSOAs (the same
    objects the map runtime asks LSC.need for)."""
    from render.static_files import SPLIT_OBJECTS
    need = set()
    for fg in groups:
        key, payload = getattr(fg, "lsc_payload", (None, None))
        if key == "access":
            need.add("lsoa")
        elif isinstance(payload, dict) and payload.get("show"):
            need.add(payload.get("geom") if key == "deprivation" else payload.get("object") if key == "indicators" else None)
    return [ctx.static[prefix] for obj, prefix in SPLIT_OBJECTS.items() if obj in need and ctx.static.get(prefix)]


def standalone_html(store, state: VS.ViewState, ctx=None, layers=None, notes: list[str] | None = None) -> str:
    """One self-contained HTML page of the view (works from disk with no network)."""
    from layers.panels import ATTRIBUTION, GRID_CSS, legend_html
    from layers.present import data_text, view_title
    notes = notes if notes is not None else []      # the caller (CLI) prints what layers add
    if ctx is None or layers is None:
        from layers.share_state import export_context
        ctx, layers = export_context(store, state, notes)
    if getattr(ctx, "interactive", False):      # the app's context: a file has no controls to
        import dataclasses                       # restyle from (no instant-restyle files)
        ctx = dataclasses.replace(ctx, interactive=False)
    m = base_map(ctx.config)
    groups = []         # added after the commit round, which must come first (as in the app)
    entries = []
    by_layer: dict = {}     # layer key -> its legend entries (the title bar's "Data:")
    waits = []          # layers that paint asynchronously: the snapshot waits for their body attribute
    for layer in layers:
        try:
            fg = layer.feature_group(ctx)
            if fg is not None:
                localise_assets(fg)
                groups.append(fg)
                key, payload = getattr(fg, "lsc_payload", (None, None))
                if key == "indicators" and isinstance(payload, dict) and payload.get("show"):
                    waits.append(["data-lsc-ind", str(payload.get("v", "")) + ":"])
                elif key == "access" and isinstance(payload, str):
                    waits.append(["data-lsc-access", payload])
            es = layer.legend(ctx)
            by_layer[layer.key] = es
            entries.extend(es)
            notes.extend(layer.notes(ctx))
        except Exception as e:          # one broken layer must not lose the rest
            notes.append(f"{layer.label} could not be drawn: {type(e).__name__}")
    view = _view_payload(ctx, state)
    seeds = _split_seeds(ctx, groups)
    if seeds:           # the page inlines every static file its HTML names (render.export_html)
        view["seed"] = seeds
    m.add_child(commit_group(view))         # first: it applies in a microtask, after the groups' scripts
    for fg in groups:
        m.add_child(fg)
    shown = [l for l in layers if l.key in by_layer]
    sources = []
    for e in entries:
        if e.source and e.source not in sources:
            sources.append(e.source)
    basemap = (ctx.config.get("basemap") or {}).get("attribution") or ""
    return page_html(m, name=view_title(ctx, shown, state),      # names the indicator / access gaps while drawn
                     data=data_text(ctx, shown, by_layer), area=area_name(state, ctx.store), legend=legend_html(entries),
                     notes=notes, sources=sources, query=VS.to_query_string(state),
                     attribution=ATTRIBUTION + (" Basemap: " + basemap if basemap else ""),
                     waits=waits, extra_css=GRID_CSS)
