"""Priority wards: the ICB's list, exemplar wards and deprivation-derived candidates."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import streamlit as st

from geo.paths import CONFIG_DIR
from geo.priority import (CANDIDATE_MEASURES, KIND_LABELS, PLACE_GROUPINGS, PriorityConfig,
                          derive_candidates, load_config)
from layers.base import Layer, LegendEntry, LegendItem, MapContext, hot, widget_default
from layers.data import ward_lookup, ward_table
from layers.map import part_group


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


class PriorityLayer(Layer):
    key = "priority"
    label = "Priority wards"
    order = 30

    def sidebar(self, ctx: MapContext) -> None:
        cfg = priority_config(ctx)
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="priority_on", **widget_default("priority_on", value=True))
        icb, ex = cfg.lists["icb"], cfg.lists["exemplar"]
        s["icb"] = st.checkbox(f"ICB list ({len(icb.wards)} wards)", key="priority_icb",
                               **widget_default("priority_icb", value=True),
                               disabled=not s["on"])
        s["exemplar"] = st.checkbox(f"Exemplar wards ({len(ex.wards)})", key="priority_exemplar",
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
            pers = list(PLACE_GROUPINGS)
            per = st.selectbox("Group by", pers, format_func=PLACE_GROUPINGS.get, key="priority_per",
                               **widget_default("priority_per", index=pers.index(r.per)))
        s["rule"] = replace(cfg.rule, n=int(n), measure=m, per=per)

    def _sets(self, ctx: MapContext) -> dict:
        s = ctx.state.setdefault(self.key, {})
        if "_sets" not in s:                 # once per rerun (map, legend, table use it)
            s["_sets"] = self._compute_sets(ctx)
        return s["_sets"]

    def _compute_sets(self, ctx: MapContext) -> dict:
        cfg = priority_config(ctx)
        s = ctx.state.get(self.key, {})
        out = {"icb": list(cfg.lists["icb"].wards) if s.get("icb", True) else [],
               "exemplar": list(cfg.lists["exemplar"].wards) if s.get("exemplar", True) else [],
               "candidate": []}
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
        return part_group(self.key, {
            "show": True,
            **{k: [idx[c] for c in v if c in idx] for k, v in sets.items()},
            "styles": styles,
        })

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
        for k in ("icb", "exemplar"):
            wl = cfg.lists[k]
            if not s.get(k, True):
                continue
            st_ = styles.get(k, {})
            if wl.wards:
                src = f"{wl.source or 'source not given'}, {wl.date.isoformat() if wl.date else 'date not given'}"
                items.append(LegendItem(f"{wl.name} ({len(sets[k])}): {src}", stroke=st_.get("color"),
                                        stroke_width=st_.get("weight", 3), dash=st_.get("dash"), shape="line"))
            else:
                notes.append(f"{wl.name}: none listed in config/priority_wards.yaml (the list is not public).")
        if s.get("candidate", True):
            rule = s.get("rule", cfg.rule)
            st_ = styles.get("candidate", {})
            items.append(LegendItem(f"{KIND_LABELS['candidate']} ({len(sets['candidate'])}): {rule.describe()}",
                                    stroke=st_.get("color"), stroke_width=st_.get("weight", 2.5),
                                    dash=st_.get("dash"), shape="line"))
        return [LegendEntry(title="Priority wards", items=items,
                            vintage="Ward codes May 2024",
                            source="config/priority_wards.yaml (ICB/exemplar lists as supplied); "
                                   "candidates derived from IoD ward figures",
                            note=" ".join(notes))]


LAYER = PriorityLayer()
