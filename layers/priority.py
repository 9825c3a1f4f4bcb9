"""Priority wards: the ICB's list, exemplar wards and deprivation-derived candidates.

Which list: a list filled in config/priority_wards.yaml (May 2024 ward codes, a newer
local list) wins for the footprint it names wards of; otherwise the NHS England /
Improvement 2021 list of priority and exemplar wards for the chosen ICB (Dec-2019 ward
codes), drawn on its APPROXIMATE 2019 ward shapes (store table priority_nhsei; see
geo.footprint). Derived candidates are a third, separately labelled option."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import streamlit as st

from geo import viewfields as VF
from geo.paths import CONFIG_DIR
from geo.priority import (CANDIDATE_MEASURES, KIND_LABELS, NHSEI_STATUS, PriorityConfig,
                          derive_candidates, listed_wd24, load_config, nhsei_members,
                          place_groupings)
from layers.base import Layer, LegendEntry, LegendItem, MapContext, hot, provide, widget_default
from layers.data import ward_lookup, ward_table
from render.map import part_group


def config_path() -> Path:
    return Path(os.environ.get("LSC_PRIORITY_WARDS") or CONFIG_DIR / "priority_wards.yaml")


@hot
@st.cache_data(show_spinner=False)
def _load(path: str, mtime: float, store_fp: str, _store) -> PriorityConfig:
    # keyed on the store fingerprint, not the ~500 known ward codes: hashing those on
    # every call cost ~10 ms, and this runs several times per rerun
    return load_config(path, tuple(_store.wards24["wd24cd"]))


@hot
@st.cache_data(max_entries=64, show_spinner=False)
def _candidate_codes(_store, fp: str, rule) -> list[str]:
    t = ward_table(_store, fp, rule.vintage)
    return derive_candidates(t, replace(rule, enabled=True))["code"].tolist()


def priority_config(ctx: MapContext) -> PriorityConfig:
    p = config_path()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        mtime = -1.0
    return _load(str(p), mtime, ctx.fingerprint, ctx.store)


NHSEI_NAME = {"icb": "NHSE/I priority wards", "exemplar": "NHSE/I exemplar wards"}
NHSEI_SOURCE = ("NHS England/Improvement list of priority & exemplar wards for every system, c. 2021 "
                "(Dec-2019 ward codes; as staged in shared/data priority/"
                "nhsei_priority_exemplar_wards_2021_england.csv)")
NHSEI_VINTAGE = "Ward codes Dec 2019 (list 2021); shapes APPROXIMATE: dissolved from LSOA 2011 by the ONS best fit"


@hot(maxsize=64)
@st.cache_data(show_spinner=False, max_entries=64)
def _nhsei_lsc_members(_store, fp: str) -> dict:
    """geo.priority.nhsei_members, memoised per footprint."""
    return nhsei_members(_store)


def nhsei_lists(ctx: MapContext) -> dict:
    """kind -> (row indices in the footprint's priority19 / prio19 geometry object, names).
    Shared between reruns and sessions (read-only): a rerun asks ~10 times."""
    return _nhsei_lists(ctx.store, ctx.fingerprint)


@hot(maxsize=64)
@st.cache_resource(show_spinner=False, max_entries=64)
def _nhsei_lists(_store, fp: str) -> dict:
    p19 = getattr(_store, "priority19", None)
    out = {}
    for kind, status in NHSEI_STATUS.items():
        if p19 is None or not len(p19):
            out[kind] = ([], [])
            continue
        m = (p19["status"].str.lower() == status.lower()).to_numpy()
        out[kind] = ([int(i) for i in m.nonzero()[0]], p19.loc[m, "wd19nm"].tolist())
    return out


def list_source(ctx: MapContext, kind: str) -> str:
    """"config" (config/priority_wards.yaml), "nhsei" (the 2021 national list) or "" (none):
    geo.priority.list_source's rule, on the memoised lists (asked ~10 times per rerun)."""
    if priority_config(ctx).lists[kind].wards:
        return "config"
    return "nhsei" if nhsei_lists(ctx)[kind][0] else ""


class PriorityLayer(Layer):
    key = "priority"
    label = "Priority wards"
    order = 30
    fields = VF.PRIORITY            # prio, n, rank, per

    # link state: prio is one checkbox per list; n/rank/per come back from the rule
    def to_session(self, values: dict, ss) -> None:
        super().to_session(values, ss)
        if values.get("prio") is not None:
            for k in VF.PRIO_KINDS:
                ss[f"priority_{k}"] = k in values["prio"]

    def link_values(self, ctx: MapContext, ss) -> dict:
        p = ctx.state.get(self.key, {})
        if not p:
            return {}
        out = {"prio": tuple(k for k in VF.PRIO_KINDS if p.get(k))}
        rule = p.get("rule")
        if rule is not None:
            out.update(n=int(rule.n), rank=rule.measure, per=rule.per)
        return out

    def state_from_view(self, view, store, fp: str = "") -> dict:
        from geo.export import priority_config, priority_rule
        cfg = priority_config(store)
        prio = view.get("prio") if view.get("prio") is not None else (
            ("icb", "exemplar") + (("candidate",) if cfg.rule.enabled else ()))
        return {"on": view.layer_on(self.key, self.default_on), "icb": "icb" in prio,
                "exemplar": "exemplar" in prio, "candidate": "candidate" in prio, "rule": priority_rule(cfg, view)}

    def sidebar(self, ctx: MapContext) -> None:
        cfg = priority_config(ctx)
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="priority_on", **widget_default("priority_on", value=True))
        icb, ex = cfg.lists["icb"], cfg.lists["exemplar"]
        labels = {}
        for k, wl in (("icb", icb), ("exemplar", ex)):
            src = list_source(ctx, k)
            if src == "nhsei":
                labels[k] = f"{NHSEI_NAME[k]}, 2021 ({len(nhsei_lists(ctx)[k][0])})"
            else:
                labels[k] = (f"ICB list ({len(wl.wards)} wards)" if k == "icb"
                             else f"Exemplar wards ({len(wl.wards)})")
        s["icb"] = st.checkbox(labels["icb"], key="priority_icb",
                               **widget_default("priority_icb", value=True),
                               disabled=not s["on"])
        s["exemplar"] = st.checkbox(labels["exemplar"], key="priority_exemplar",
                                    **widget_default("priority_exemplar", value=True), disabled=not s["on"])
        s["candidate"] = st.checkbox("Derived candidates", key="priority_candidate",
                                     **widget_default("priority_candidate", value=cfg.rule.enabled),
                                     disabled=not s["on"])
        with st.expander("Candidate rule", expanded=False):
            r = cfg.rule
            n = st.number_input("Wards per group", 1, 50, key="priority_n", **widget_default("priority_n", value=r.n))
            measures = list(CANDIDATE_MEASURES)
            m = st.selectbox("Ranked by", measures, format_func=lambda k: CANDIDATE_MEASURES[k][0],
                             key="priority_measure",
                             **widget_default("priority_measure", index=measures.index(r.measure)))
            groupings = place_groupings(ctx.store)
            pers = list(groupings)
            default_per = r.per if r.per in groupings else "place5"
            if st.session_state.get("priority_per", default_per) not in groupings:
                st.session_state["priority_per"] = "place5"   # place4 = place5 outside LSC
            per = st.selectbox("Group by", pers, format_func=groupings.get, key="priority_per",
                               **widget_default("priority_per", index=pers.index(default_per)))
        s["rule"] = replace(cfg.rule, n=int(n), measure=m, per=per)

    def _sets(self, ctx: MapContext) -> dict:
        s = ctx.state.setdefault(self.key, {})
        if "_sets" not in s:                 # once per rerun (map, legend, table use it)
            s["_sets"] = self._compute_sets(ctx)
        return s["_sets"]

    def _compute_sets(self, ctx: MapContext) -> dict:
        cfg = priority_config(ctx)
        s = ctx.state.get(self.key, {})
        out = {"candidate": []}
        listed = listed_wd24(cfg, ctx.store, _nhsei_lsc_members(ctx.store, ctx.fingerprint))
        for k in ("icb", "exemplar"):     # WD24 codes: the config list, else the NHSE/I list's wards
            out[k] = listed[k][1] if s.get(k, True) else []
        rule = s.get("rule", cfg.rule)
        if s.get("candidate", rule.enabled):
            out["candidate"] = list(_candidate_codes(ctx.store, ctx.fingerprint, rule))
        return out

    def candidates_table(self, ctx: MapContext):
        cfg = priority_config(ctx)
        rule = ctx.state.get(self.key, {}).get("rule", cfg.rule)
        t = ward_table(ctx.store, ctx.fingerprint, rule.vintage)
        return derive_candidates(t, replace(rule, enabled=True)), rule

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        cfg = priority_config(ctx)
        for p in cfg.problems:
            ctx.messages.append(("warning", f"priority_wards.yaml: {p}"))
        _, _, _, idx, _ = ward_lookup(ctx.store, ctx.fingerprint)
        sets = self._sets(ctx)
        styles = ctx.config.get("priority", {}).get("styles", {})
        s = ctx.state.get(self.key, {})
        payload = {"show": True, **{k: [idx[c] for c in v if c in idx] for k, v in sets.items()},
                   "styles": styles, "geoms": {}}
        nat = nhsei_lists(ctx)
        for k in ("icb", "exemplar"):     # the NHSE/I list: drawn on its own Dec-2019 ward shapes
            if s.get(k, True) and list_source(ctx, k) == "nhsei":
                payload[k] = nat[k][0]
                payload["geoms"][k] = "prio19"
        return part_group(self.key, payload)

    def membership(self, ctx: MapContext) -> dict[str, list[str]]:
        """code -> list of kinds it is highlighted as (for tables/profile)."""
        if not self.is_on(ctx):
            return {}
        out: dict[str, list[str]] = {}
        for k, codes in self._sets(ctx).items():
            for c in codes:
                out.setdefault(c, []).append(k)
        return out

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        cfg = priority_config(ctx)
        s = ctx.state[self.key]
        styles = ctx.config.get("priority", {}).get("styles", {})
        sets = self._sets(ctx)
        items, notes = [], []
        nat = nhsei_lists(ctx)
        vintage = "Ward codes May 2024"
        for k in ("icb", "exemplar"):
            wl = cfg.lists[k]
            if not s.get(k, True):
                continue
            st_ = styles.get(k, {})
            if list_source(ctx, k) == "nhsei":
                items.append(LegendItem(f"{NHSEI_NAME[k]} ({len(nat[k][0])}): NHS England/Improvement list, 2021",
                                        stroke=st_.get("color"), stroke_width=st_.get("weight", 3),
                                        dash=st_.get("dash"), shape="line"))
                vintage = NHSEI_VINTAGE
            elif wl.wards:
                src = f"{wl.source or 'source not given'}, {wl.date.isoformat() if wl.date else 'date not given'}"
                items.append(LegendItem(f"{wl.name} ({len(sets[k])}): {src}", stroke=st_.get("color"),
                                        stroke_width=st_.get("weight", 3), dash=st_.get("dash"), shape="line"))
            else:
                if getattr(ctx.store, "priority19", None) is not None:
                    notes.append(f"{NHSEI_NAME[k]}: the 2021 list names none in this ICB, and "
                                 "config/priority_wards.yaml lists none.")
                else:
                    notes.append(f"{wl.name}: none listed in config/priority_wards.yaml (the list is not public).")
        if s.get("candidate", True):
            rule = s.get("rule", cfg.rule)
            st_ = styles.get("candidate", {})
            items.append(LegendItem(f"{KIND_LABELS['candidate']} ({len(sets['candidate'])}): {rule.describe(place_groupings(ctx.store))}",
                                    stroke=st_.get("color"), stroke_width=st_.get("weight", 2.5),
                                    dash=st_.get("dash"), shape="line"))
        src = ("config/priority_wards.yaml (ICB/exemplar lists as supplied)"
               if any(list_source(ctx, k) == "config" for k in ("icb", "exemplar")) else NHSEI_SOURCE)
        if vintage == NHSEI_VINTAGE:
            notes.append("The 2021 list names Dec-2019 wards; the ward table and profiles flag the May-2024 "
                         "wards where most people live in a listed 2019 ward. A newer local list in "
                         "config/priority_wards.yaml takes its place.")
        return [LegendEntry(title="Priority wards", items=items, vintage=vintage,
                            source=src + "; candidates derived from IoD ward figures",
                            note=" ".join(notes))]


LAYER = PriorityLayer()
provide("priority.membership", LAYER.membership)   # services' outreach table (ctx.need)
