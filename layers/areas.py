"""Custom areas ("neighbourhoods") in the app: make one from picked wards, pasted codes or
an uploaded list, name it, save it (geo/areas.py, the user-data store); saved areas of
the footprint's ICB join the Area filter as `custom:NAME` (the link's `area=custom:NAME`),
and the map outlines their LSOAs, the ward table lists their wards and a profile panel
gives their official measures beside the ICB and England.

Not a map layer of its own (nothing to switch on: `is_on` is False, so it never enters a
link's `layers=`): its sidebar is the "Custom areas" expander, its panel the profile.
Everything user-typed (names, codes, file names) is escaped where shown (layers.base.md,
esc).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import areas as A
from geo.errors import GeoError
from layers.base import Layer, LegendEntry, LegendItem, MapContext, md, per_run, provide, public_text

KEY = "areas"
OUTLINE = "#000000"
HOW = {"wards": "Pick wards", "codes": "Paste codes", "file": "Upload a list"}
MSGS = "_areas_msgs"
A_LSC = "E54000048"
_MEMO: dict = {}


# ------------------------------------------------------------------ saved areas
@per_run
def _generation() -> tuple:
    """(which store, its generation): what the memo of saved areas is keyed on."""
    from geo import userdb
    try:
        return userdb.database_url(), userdb.generation()
    except Exception:
        return "", -1


def saved(store) -> dict[str, A.CustomArea]:
    """name -> CustomArea of the areas saved for the footprint's ICB (read once per change
    of the user-data store)."""
    icb = getattr(store, "code", A_LSC)
    key = (icb, _generation())
    if key not in _MEMO:
        out = {}
        try:
            for e in A.list_areas(icb):
                try:
                    out[A.area_name(e)] = A.load_area(A.area_name(e), icb)
                except GeoError:
                    continue
        except GeoError:
            pass
        if len(_MEMO) > 32:
            _MEMO.clear()
        _MEMO[key] = out
    return _MEMO[key]


def options(store) -> dict[str, tuple[str, str, str]]:
    """Area filter options of the saved custom areas: "custom:NAME" -> ("custom", NAME, label)."""
    return {a.key: ("custom", name, f"Custom area: {name}") for name, a in sorted(saved(store).items(),
                                                                                   key=lambda kv: kv[0].lower())}


def area_dict(store, name: str) -> dict:
    """ctx.area for a custom area: kind, code (= name), name, its LSOA 2021 codes and the
    wards they best-fit to (what the ward table lists)."""
    a = saved(store).get(name)
    if a is None:
        return {"kind": "icb", "code": None, "name": "the whole ICB"}
    key = ("dict", getattr(store, "code", A_LSC), _generation(), name)
    if key not in _MEMO:             # the wards and 2011 LSOAs from this store (not as saved)
        _MEMO[key] = {"kind": "custom", "code": name, "name": name, "lsoa21": a.lsoa21,
                      "wards": tuple(A.area_wards(store, a)["wd24cd"]),
                      "lsoa11": tuple(A.lsoa_rows(store, a, 2019)["lsoa11cd"])}
    return dict(_MEMO[key])


def filter_frame(df: pd.DataFrame, area: dict) -> pd.DataFrame:
    """Rows of an LSOA or ward table in a custom area (ctx.area of kind "custom")."""
    return A.frame_in_area(df, A.CustomArea(area["name"], "", "", tuple(area.get("lsoa21") or ()),
                                            lsoa11=tuple(area.get("lsoa11") or ()),
                                            fit_wards=tuple(area.get("wards") or ())))


def bounds(store, fp: str, name: str):
    """[[s, w], [n, e]] of the area's LSOAs (the whole footprint when not saved)."""
    a = saved(store).get(name)
    l = store.lsoa25
    g = l[l["lsoa21cd"].isin(set(a.lsoa21))] if a is not None else l
    b = g.total_bounds
    return [[round(float(b[1]), 5), round(float(b[0]), 5)], [round(float(b[3]), 5), round(float(b[2]), 5)]]


def lsoa_index(store, area: dict) -> list[int]:
    """Rows of the area's LSOAs in the static "lsoa21" object (store.lsoa25 order)."""
    codes = set(area.get("lsoa21") or ())
    l = store.lsoa25["lsoa21cd"].reset_index(drop=True)
    return [int(i) for i in l.index[l.isin(codes)]]


# ------------------------------------------------------------------ callbacks
def _say(level: str, text: str) -> None:
    st.session_state.setdefault(MSGS, []).append((level, text))


def _parsed(store, how: str):
    ss = st.session_state
    if how == "wards":
        return A.from_wards(store, list(ss.get("areas_wards") or []))
    if how == "codes":
        return A.parse_codes(store, ss.get("areas_codes") or "", "pasted codes")
    f = ss.get("areas_file")
    if f is None:
        return None
    return A.parse_codes(store, f.getvalue(), public_text(getattr(f, "name", "uploaded file")))


def _on_save(store, fp: str) -> None:
    ss = st.session_state
    ss[MSGS] = []
    how = ss.get("areas_how", "wards")
    p = _parsed(store, how)
    if p is None or (how == "wards" and not p.rows):
        _say("warning", "Pick at least one ward, paste codes or upload a list first.")
        return
    for m in p.messages():
        _say("warning", f"Left out: {m}")
    for n in p.notes:
        _say("info", f"{p.source}: {n}")
    try:
        area = A.make_area(store, ss.get("areas_name") or "", p)
        res = A.save_area(area)
    except GeoError as e:
        _say("error", f"Not saved: {e}")
        return
    _say("success", f"{A.saved_message(res, area.name)} {len(area.lsoa21)} LSOA 2021 ({A.LSOA_BUILT_NOTE}).")
    _MEMO.clear()
    ss["area"] = area.key                      # show it now: the Area filter and the map follow
    ss["fit"] = {"key": f"custom:{area.name}:{res.version}", "b": bounds(store, fp, area.name)}


def _on_remove(store, name: str) -> None:
    ss = st.session_state
    try:
        A.remove_area(name, store.code)
        ss[MSGS] = [("info", f"Removed custom area '{name}'.")]
        ss["_areas_undo"] = name
    except GeoError as e:
        ss[MSGS] = [("error", str(e))]
    _MEMO.clear()
    if ss.get("area") == f"{A.PREFIX}:{name}":
        ss["area"] = "icb"


def _on_restore(store, name: str) -> None:
    ss = st.session_state
    try:
        A.restore_area(name, store.code)
        ss[MSGS] = [("success", f"Restored custom area '{name}'.")]
    except GeoError as e:
        ss[MSGS] = [("error", str(e))]
    ss.pop("_areas_undo", None)
    _MEMO.clear()


# ------------------------------------------------------------------ the layer
class AreasLayer(Layer):
    key = KEY
    label = "Custom areas"
    order = 5
    default_on = False

    def is_on(self, ctx: MapContext) -> bool:   # nothing to switch on; never in a link's layers=
        return False

    def sidebar(self, ctx: MapContext) -> None:
        ss = st.session_state
        msgs = ss.get(MSGS) or []
        with st.expander("Custom areas (neighbourhoods)", expanded=bool(msgs)):
            st.caption("Make an area from wards or LSOAs, name it and save it: it joins the Area filter "
                       "(and links) for this ICB. " + A.LSOA_BUILT_NOTE + ".")
            how = st.radio("Build from", list(HOW), format_func=HOW.get, horizontal=True, key="areas_how")
            if how == "wards":
                from layers.view import ward_options
                w = ward_options(ctx.store, ctx.fingerprint)
                st.multiselect("Wards", list(w), format_func=w.get, key="areas_wards",
                               placeholder="Type ward names…")
            elif how == "codes":
                st.text_area("Codes, one a line (ward E05…, LSOA 2021 or 2011 E01…)", key="areas_codes",
                             height=100)
            else:
                st.file_uploader("A list of codes (CSV with a code column, or TXT one a line)",
                                 type=["csv", "txt"], key="areas_file")
            st.text_input("Name of the area", key="areas_name", max_chars=A.NAME_MAX)
            st.button("Save area", key="areas_save", on_click=_on_save, args=(ctx.store, ctx.fingerprint))
            for level, text in msgs:
                getattr(st, level if level in ("info", "warning", "error", "success") else "info")(md(text))
            undo = ss.get("_areas_undo")
            if undo:
                st.button(f"Undo: restore {undo}", key="areas_undo", on_click=_on_restore, args=(ctx.store, undo))
            mine = saved(ctx.store)
            if mine:
                st.markdown("**Saved for this ICB**")
            for i, (name, a) in enumerate(sorted(mine.items(), key=lambda kv: kv[0].lower())):
                c1, c2 = st.columns([4, 1])
                c1.markdown(f"{md(name)} · {len(a.lsoa21)} LSOAs · v{a.version}")
                c2.button("Remove", key=f"areas_rm_{i}", on_click=_on_remove, args=(ctx.store, name),
                          help="Remove this saved area (it can be restored)")

    def legend_follows_area(self, ctx: MapContext) -> bool:     # a custom area's outline entry
        return (ctx.area or {}).get("kind") == "custom"

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        a = ctx.area or {}
        if a.get("kind") != "custom":
            return []
        n = len(a.get("lsoa21") or ())
        return [LegendEntry(title=f"Custom area: {a['name']}",
                            items=[LegendItem(f"its {n} LSOA 2021 outlined", stroke=OUTLINE, stroke_width=3)],
                            vintage="LSOA 2021 (Dec 2021 boundaries)", source="saved in this app",
                            note=A.LSOA_BUILT_NOTE)]

    def panel(self, ctx: MapContext) -> None:
        a = ctx.area or {}
        if a.get("kind") != "custom":
            return
        area = saved(ctx.store).get(a["code"])
        if area is None:
            return
        profile(ctx, area)


def _comparators(ctx: MapContext, vintage: int) -> list[tuple[str, pd.DataFrame]]:
    from layers.data import area_table
    out = [(f"ICB: {getattr(ctx.store, 'name', 'LSC ICB')}", area_table(ctx.store, ctx.fingerprint, "icb", vintage))]
    eng = area_table(ctx.store, ctx.fingerprint, "england", vintage)
    if eng is not None and len(eng):
        out.append(("England", eng))
    return out


MEASURE_COLS = {"population": "Population", "n_lsoas": "LSOAs", "imd_score": "IMD score (pop-weighted)",
                "avg_rank": "Average rank", "pct_lsoas_most_deprived_10": "% LSOAs in most deprived 10%",
                "pct_lsoas_most_deprived_20": "% LSOAs in most deprived 20%", "pct_core20": "% Core20",
                "core20_population": "Core20 people", "extent": "Extent", "local_concentration": "Local concentration"}


def profile(ctx: MapContext, area: A.CustomArea) -> None:
    """The area's official measures beside the ICB and England, its wards and LSOAs."""
    from geo.csvsafe import safe_csv_bytes
    vintage = int(ctx.choice("deprivation", "vintage", 2025))
    row = A.summary_row(ctx.store, area, vintage)
    st.markdown(f"#### Custom area: {md(area.name)} · IoD{vintage}")
    st.caption(md(f"{A.LSOA_BUILT_NOTE}. Saved version {area.version}. Figures: {row['population_basis'].iloc[0]}."))
    rows = [("Custom area: " + area.name, row)] + _comparators(ctx, vintage)
    comp = []
    for label, df in rows:
        x = df.iloc[0]
        r = {"Area": label}
        for c, h in MEASURE_COLS.items():
            r[h] = x.get(c) if c in df.columns else None
        comp.append(r)
    table = pd.DataFrame(comp)
    st.dataframe(table, hide_index=True, width="stretch", key="areas_profile_table",
                 column_config={h: st.column_config.NumberColumn(format="%.1f") for h in MEASURE_COLS.values()
                                if h not in ("Population", "LSOAs", "Core20 people", "Extent")})
    wards = A.area_wards(ctx.store, area)
    part = wards[~wards["whole_ward"]]
    st.caption(f"{len(wards)} ward(s): " + md("; ".join(wards["wd24nm"].astype(str)))
               + (f" ({len(part)} only in part: the ward table under the map shows whole-ward figures)"
                  if len(part) else ""))
    fname = "lsc_custom_area_" + "".join(ch if ch.isalnum() else "_" for ch in area.name)[:50] + f"_IoD{vintage}.csv"
    st.download_button("Download the area's figures (CSV)", lambda: safe_csv_bytes(row), file_name=fname,
                       mime="text/csv", key="areas_profile_csv", on_click="ignore")
    with st.expander(f"The area's LSOAs ({len(area.lsoa21)})"):
        l = A.lsoa_rows(ctx.store, area, vintage)
        code, name = ("lsoa21cd", "lsoa21nm") if vintage == 2025 else ("lsoa11cd", "lsoa11nm")
        pop = "pop2021" if vintage == 2025 else "pop2015"
        st.dataframe(pd.DataFrame(l[[code, name, "wd24nm", "imd_decile", "imd_score", pop]])
                     .rename(columns={code: "LSOA", name: "Name", "wd24nm": "Ward", "imd_decile": "IMD decile",
                                      "imd_score": "IMD score", pop: "Population"})
                     .sort_values("IMD score", ascending=False), hide_index=True, width="stretch",
                     key="areas_profile_lsoas")


LAYER = AreasLayer()
provide("areas.filter_frame", filter_frame)   # the access layer's area filter (ctx.need)
