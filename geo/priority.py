"""Priority wards: parse/validate config/priority_wards.yaml and derive candidates.

Pure Python (no streamlit/folium). Three kinds of highlight, always labelled apart:

- ``icb``        the ICB's own list (33 wards with high deprivation AND higher than
                 expected urgent & emergency care use). Not public: shipped empty; a user
                 fills in ward codes with the list's source and date.
- ``exemplar``   optional list of "exemplar" wards (lower than expected use).
- ``candidate``  deprivation-derived candidates by a transparent, configurable rule
                 (top N wards per place by a ward measure such as % Core20 population).

`parse_config(data, known_codes)` never raises on bad content: it returns the usable
part plus a list of `Problem`s naming each offending entry (`where`, `value`,
`problem`), so the app can show them while the rest still draws.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

SCHEMA_VERSION = 1
LIST_KEYS = {"icb_list": "icb", "exemplar_list": "exemplar"}
KIND_LABELS = {
    "icb": "ICB priority wards",
    "exemplar": "Exemplar wards",
    "candidate": "Derived candidates (deprivation rule)",
}
# measure -> (label, True if a larger value is more deprived)
CANDIDATE_MEASURES = {
    "pct_core20": ("% of population in Core20 (IMD national deciles 1-2)", True),
    "core20_population": ("people living in Core20 LSOAs", True),
    "imd_score": ("population-weighted IMD score", True),
    "pct_decile1": ("% of population in IMD national decile 1", True),
    "avg_rank": ("population-weighted average IMD rank", False),
}
PLACE_GROUPINGS = {"place5": "place (legacy five)", "place4": "place (current four)",
                   "lad19cd": "district", "icb": "whole ICB"}
WARD_CODE = re.compile(r"^[EWSN]05\d{6}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Problem:
    where: str          # e.g. "icb_list.wards[3]"
    value: Any
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem} (got {self.value!r})"


@dataclass
class WardList:
    kind: str                        # "icb" | "exemplar"
    name: str
    source: str = ""
    date: _dt.date | None = None
    wards: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)   # code -> note

    @property
    def label(self) -> str:
        bits = [self.name or KIND_LABELS[self.kind]]
        if self.source:
            bits.append(self.source)
        if self.date:
            bits.append(self.date.isoformat())
        return " — ".join(bits)


@dataclass
class CandidateRule:
    enabled: bool = True
    measure: str = "pct_core20"
    n: int = 3
    per: str = "place5"
    min_population: int = 0
    vintage: int = 2019

    def describe(self) -> str:
        label, _ = CANDIDATE_MEASURES[self.measure]
        where = ("across the whole ICB" if self.per == "icb"
                 else f"in each {PLACE_GROUPINGS[self.per]}")
        s = f"Top {self.n} wards {where} by {label}, IoD{self.vintage}"
        if self.min_population:
            s += f"; wards with at least {self.min_population:,} people"
        return s + "."


@dataclass
class PriorityConfig:
    lists: dict[str, WardList]
    rule: CandidateRule
    problems: list[Problem] = field(default_factory=list)


def _as_date(v, where: str, problems: list[Problem]) -> _dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, str) and _DATE.match(v.strip()):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    problems.append(Problem(where, v, "not a date in the form YYYY-MM-DD"))
    return None


def _as_text(v, where: str, problems: list[Problem]) -> str:
    if v is None:
        return ""
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return str(v).strip()
    problems.append(Problem(where, v, "should be text"))
    return ""


def _parse_list(kind: str, key: str, raw, known: set[str] | None,
                problems: list[Problem]) -> WardList:
    wl = WardList(kind=kind, name=KIND_LABELS[kind])
    if raw is None:
        return wl
    if not isinstance(raw, dict):
        problems.append(Problem(key, raw, "should be a mapping with name, source, date, wards"))
        return wl
    for k in raw:
        if k not in {"name", "source", "date", "wards", "ward_vintage"}:
            problems.append(Problem(f"{key}.{k}", raw[k], "unknown field (ignored)"))
    wl.name = _as_text(raw.get("name"), f"{key}.name", problems) or wl.name
    wl.source = _as_text(raw.get("source"), f"{key}.source", problems)
    wl.date = _as_date(raw.get("date"), f"{key}.date", problems)
    vintage = raw.get("ward_vintage", "WD24")
    if vintage not in ("WD24", None):
        problems.append(Problem(f"{key}.ward_vintage", vintage,
                                "only May 2024 ward codes (WD24) are supported"))
    wards = raw.get("wards")
    if wards is None:
        wards = []
    if not isinstance(wards, list):
        problems.append(Problem(f"{key}.wards", wards, "should be a list of ward codes"))
        wards = []
    seen: set[str] = set()
    for i, item in enumerate(wards):
        where = f"{key}.wards[{i}]"
        note = ""
        code = item
        if isinstance(item, dict):
            code, note = item.get("code"), item.get("note", "")
            note = _as_text(note, where + ".note", problems)
        if not isinstance(code, str):
            problems.append(Problem(where, item, "a ward code should be text like E05005150"))
            continue
        code = code.strip().upper()
        if not WARD_CODE.match(code):
            problems.append(Problem(where, item, "not a ward code (expected E05 + 6 digits)"))
            continue
        if known is not None and code not in known:
            problems.append(Problem(where, item, "unknown ward code: not a May 2024 ward in LSC"))
            continue
        if code in seen:
            problems.append(Problem(where, item, "listed twice (kept once)"))
            continue
        seen.add(code)
        wl.wards.append(code)
        if note:
            wl.notes[code] = note
    return wl


def _parse_rule(raw, problems: list[Problem]) -> CandidateRule:
    rule = CandidateRule()
    if raw is None:
        return rule
    if not isinstance(raw, dict):
        problems.append(Problem("candidates", raw, "should be a mapping"))
        return rule
    for k, v in raw.items():
        where = f"candidates.{k}"
        if k == "enabled":
            if isinstance(v, bool):
                rule.enabled = v
            else:
                problems.append(Problem(where, v, "should be true or false"))
        elif k == "measure":
            if v in CANDIDATE_MEASURES:
                rule.measure = v
            else:
                problems.append(Problem(where, v, "unknown measure; one of "
                                        + ", ".join(CANDIDATE_MEASURES)))
        elif k == "n":
            if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100:
                rule.n = v
            else:
                problems.append(Problem(where, v, "should be a whole number 1-100"))
        elif k == "per":
            if v in PLACE_GROUPINGS:
                rule.per = v
            else:
                problems.append(Problem(where, v, "one of " + ", ".join(PLACE_GROUPINGS)))
        elif k == "min_population":
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                rule.min_population = int(v)
            else:
                problems.append(Problem(where, v, "should be a number >= 0"))
        elif k == "vintage":
            if v in (2019, 2025):
                rule.vintage = v
            else:
                problems.append(Problem(where, v, "should be 2019 or 2025"))
        else:
            problems.append(Problem(where, v, "unknown field (ignored)"))
    return rule


def parse_config(data, known_codes: Iterable[str] | None = None) -> PriorityConfig:
    """Validate parsed YAML. Bad entries are dropped and reported; the rest is kept."""
    problems: list[Problem] = []
    known = set(known_codes) if known_codes is not None else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(Problem("(file)", type(data).__name__, "top level should be a mapping"))
        data = {}
    sv = data.get("schema_version", SCHEMA_VERSION)
    if sv != SCHEMA_VERSION:
        problems.append(Problem("schema_version", sv, f"expected {SCHEMA_VERSION}"))
    for k in data:
        if k not in {"schema_version", "icb_list", "exemplar_list", "candidates"}:
            problems.append(Problem(k, data[k], "unknown section (ignored)"))
    lists = {kind: _parse_list(kind, key, data.get(key), known, problems)
             for key, kind in LIST_KEYS.items()}
    rule = _parse_rule(data.get("candidates"), problems)
    return PriorityConfig(lists=lists, rule=rule, problems=problems)


def _no_dates_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that keeps dates as text, so an impossible date (2024-02-30) is a
        reported Problem instead of an exception inside the YAML parser."""

    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


def load_config(path: str | Path, known_codes: Iterable[str] | None = None) -> PriorityConfig:
    """Read and validate the YAML file; a missing or unparsable file is a Problem too."""
    import yaml
    _NoDatesLoader = _no_dates_loader()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        cfg = parse_config({}, known_codes)
        cfg.problems.insert(0, Problem(str(p), None, f"cannot read file ({e.strerror or e})"))
        return cfg
    try:
        data = yaml.load(text, Loader=_NoDatesLoader)
    except yaml.YAMLError as e:
        cfg = parse_config({}, known_codes)
        mark = getattr(e, "problem_mark", None)
        where = f"{p.name} line {mark.line + 1}" if mark else p.name
        cfg.problems.insert(0, Problem(where, None, f"not valid YAML ({getattr(e, 'problem', e)})"))
        return cfg
    return parse_config(data, known_codes)


def derive_candidates(wards: pd.DataFrame, rule: CandidateRule) -> pd.DataFrame:
    """Top-N wards per group by the rule's measure.

    `wards` needs columns code, name, population, the rule's measure, and the grouping
    column (rule.per, unless "icb"). Ties are broken by population (larger first), then
    code. Returns code, name, group, value, rank_in_group, reason.
    """
    cols = ["code", "name", "group", "value", "rank_in_group", "reason"]
    if not rule.enabled or wards.empty:
        return pd.DataFrame(columns=cols)
    label, larger_worse = CANDIDATE_MEASURES[rule.measure]
    df = wards.copy()
    df = df[df[rule.measure].notna()]
    if rule.min_population:
        df = df[df["population"] >= rule.min_population]
    df["group"] = "Whole ICB" if rule.per == "icb" else df[rule.per]
    df = df.sort_values([rule.measure, "population", "code"],
                        ascending=[not larger_worse, False, True], kind="mergesort")
    df["rank_in_group"] = df.groupby("group", sort=False).cumcount() + 1
    top = df[df["rank_in_group"] <= rule.n].copy()
    top["value"] = top[rule.measure]
    top["reason"] = [f"#{r} in {g} by {label}" for r, g in zip(top["rank_in_group"], top["group"])]
    return top.sort_values(["group", "rank_in_group"])[cols].reset_index(drop=True)
