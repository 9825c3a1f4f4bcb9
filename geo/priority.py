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
# Outside LSC a footprint's places are its sub-ICB locations (geo.footprint: place5 and
# place4 both hold them), so "legacy five"/"current four" would be wrong words there.
ICB_GROUPINGS = {"place5": "sub-ICB location", "lad19cd": "district", "icb": "whole ICB"}


def place_groupings(store=None) -> dict[str, str]:
    """The candidate rule's "group by" choices, in the footprint's own words."""
    return PLACE_GROUPINGS if getattr(store, "is_lsc", True) else ICB_GROUPINGS
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

    def describe(self, groupings: dict[str, str] | None = None) -> str:
        """groupings: place_groupings(store) (default: LSC's words)."""
        label, _ = CANDIDATE_MEASURES[self.measure]
        g = groupings or PLACE_GROUPINGS
        where = ("across the whole ICB" if self.per == "icb"
                 else f"in each {g.get(self.per, g.get('place5', self.per))}")
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
    column (rule.per, unless "icb"); core20_population and imd_score are used for ties
    when present (core20_population is derived from pct_core20 x population if absent).

    Ties on the measure go to the more deprived ward: more Core20 people first, then the
    higher population-weighted IMD score, so a tie never drops the most deprived ward.
    Wards still equal on all three share a rank, and a shared rank at the cut-off keeps
    every ward holding it (the group may then list more than n). Returns code, name,
    group, value, rank_in_group, reason.
    """
    cols = ["code", "name", "group", "value", "rank_in_group", "reason"]
    if not rule.enabled or wards.empty:
        return pd.DataFrame(columns=cols)
    label, larger_worse = CANDIDATE_MEASURES[rule.measure]
    df = wards.copy()
    df = df[df[rule.measure].notna()]
    if rule.min_population:
        df = df[df["population"] >= rule.min_population]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["group"] = "Whole ICB" if rule.per == "icb" else df[rule.per]
    if "core20_population" not in df.columns and "pct_core20" in df.columns:
        df["core20_population"] = df["pct_core20"] * df["population"] / 100
    keys, asc = [rule.measure], [not larger_worse]
    for k in ("core20_population", "imd_score"):
        if k in df.columns and k != rule.measure:
            keys.append(k)
            asc.append(False)
    df = df.sort_values(keys + ["code"], ascending=asc + [True], kind="mergesort")
    # rank: position of the first ward in the group with the same tie-break keys
    tied = df[keys].fillna(float("-inf")).ne(df.groupby("group", sort=False)[keys].shift().fillna(
        float("-inf"))).any(axis=1)
    pos = df.groupby("group", sort=False).cumcount() + 1
    df["rank_in_group"] = pos.where(tied).groupby(df["group"], sort=False).ffill().astype("int64")
    top = df[df["rank_in_group"] <= rule.n].copy()
    top["value"] = top[rule.measure]
    top["reason"] = [f"#{r} in {g} by {label}" for r, g in zip(top["rank_in_group"], top["group"])]
    return top.sort_values(["group", "rank_in_group"])[cols].reset_index(drop=True)


# ---------------------------------------------------------------- listed wards for any ICB
NHSEI_STATUS = {"icb": "Priority", "exemplar": "Exemplar"}


def nhsei_members(store) -> dict[str, list[str]]:
    """The NHSE/I 2021 list (Dec-2019 ward codes) -> the footprint's May-2024 wards where most
    of the ward's people (2011 LSOAs by best fit, mid-2015 population) live in a listed
    2019 ward: {"icb": [...], "exemplar": [...]} (ward table, profile, exports)."""
    p19 = getattr(store, "priority19", None)
    out: dict[str, list[str]] = {"icb": [], "exemplar": []}
    if p19 is None or not len(p19):
        return out
    l = store.lsoa[["wd19cd", "wd24cd", "pop2015"]].dropna(subset=["wd24cd"])
    tot = l.groupby("wd24cd")["pop2015"].sum()
    for kind, status in NHSEI_STATUS.items():
        codes = set(p19.loc[p19["status"].str.lower() == status.lower(), "wd19cd"])
        share = l[l["wd19cd"].isin(codes)].groupby("wd24cd")["pop2015"].sum() / tot
        out[kind] = sorted(share.index[share > 0.5])
    return out


def nhsei_count(store, kind: str) -> int:
    """How many wards of this status the NHSE/I list names in the footprint (2019 wards)."""
    p19 = getattr(store, "priority19", None)
    if p19 is None or not len(p19):
        return 0
    return int((p19["status"].str.lower() == NHSEI_STATUS[kind].lower()).sum())


def list_source(cfg: PriorityConfig, store, kind: str) -> str:
    """"config" (a filled config/priority_wards.yaml list wins), "nhsei" (the 2021 national
    list names wards in this footprint) or "" (none)."""
    if cfg.lists[kind].wards:
        return "config"
    return "nhsei" if nhsei_count(store, kind) else ""


def listed_wd24(cfg: PriorityConfig, store, members: dict | None = None) -> dict[str, tuple[str, list[str]]]:
    """kind ("icb", "exemplar") -> (source, May-2024 ward codes) as the map highlights them.
    members: nhsei_members(store), when the caller has it memoised."""
    out = {}
    for kind in ("icb", "exemplar"):
        src = list_source(cfg, store, kind)
        if src == "config":
            out[kind] = (src, list(cfg.lists[kind].wards))
        elif src == "nhsei":
            out[kind] = (src, list((members or nhsei_members(store))[kind]))
        else:
            out[kind] = ("", [])
    return out


NHSEI_LIST = {
    "name": "NHSE/I 2021",
    "date": "2021-04",
    "ward_vintage": "WD19 (December 2019 ward codes)",
    "source": ("NHS England/Improvement priority and exemplar wards, c. April 2021 (priority: high deprivation "
               "and higher than expected urgent & emergency care use; exemplar: deprived, lower than expected use), "
               "as compiled by the British Red Cross (github.com/britishredcrosssociety/nhse-priority-wards). "
               "2019 ward codes; shapes are APPROXIMATE, dissolved from LSOA 2011 by the ONS best fit."),
}
LISTED_COLUMNS = ["list", "status", "wd19cd", "wd19nm", "lad19cd", "lad19nm", "drawn", "note", "wd24cd", "wd24nm",
                  "wd24_share", "n_wd24", "wd24_wards", "population2021", "stp", "ccg19cd", "ccg19nm", "icb24cd",
                  "list_date", "ward_vintage", "list_source"]
NOT_DRAWN = ("not drawn: the 2019 ward receives no LSOA 2011 under the ONS best fit (too small), so it has no shape "
             "and no May-2024 mapping")


@dataclass
class ListedWards:
    """The priority/exemplar list that applies to one ICB (or England), ready to show."""
    icb_code: str
    name: str
    date: str
    ward_vintage: str
    source: str
    kind: str                        # "national" (NHSE/I 2021) | "local" (config/priority_wards.yaml)
    wards: pd.DataFrame              # one row per listed ward, LISTED_COLUMNS
    shapes: Any = None               # GeoDataFrame: code, name, status, approximate_geometry, geometry
    problems: list[Problem] = field(default_factory=list)
    mapping: pd.DataFrame | None = None  # wd19cd -> wd24cd, wd24nm, pop2021, share (national list)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.date}; {self.ward_vintage})"


def listed_ward_rows(listed: pd.DataFrame, w19_w24: pd.DataFrame, list_meta: dict) -> pd.DataFrame:
    """One row per listed 2019 ward with the May-2024 ward(s) its Census 2021 population
    maps to (see geo.wardmap). listed: wd19cd, wd19nm, status (+ lad19cd, lad19nm, stp,
    ccg19cd, ccg19nm, icb24cd, n_lsoa11_bestfit when known). A ward with no LSOA (no
    mapping) is kept, drawn=False, with the reason in `note`."""
    m = w19_w24[w19_w24["wd19cd"].isin(set(listed["wd19cd"]))]
    by = {k: g for k, g in m.groupby("wd19cd", sort=False)}
    rows = []
    for r in listed.to_dict("records"):
        g = by.get(r["wd19cd"])
        has_lsoa = g is not None and len(g) and r.get("n_lsoa11_bestfit", 1) != 0
        row = {c: r.get(c, "") for c in ("status", "wd19cd", "wd19nm", "lad19cd", "lad19nm", "stp", "ccg19cd",
                                         "ccg19nm", "icb24cd")}
        row.update(list=list_meta["name"], list_date=list_meta["date"], ward_vintage=list_meta["ward_vintage"],
                   list_source=list_meta["source"], drawn=bool(has_lsoa))
        if has_lsoa:
            g = g.sort_values("share", ascending=False)
            top = g.iloc[0]
            row.update(note="", wd24cd=top["wd24cd"], wd24nm=top["wd24nm"], wd24_share=round(float(top["share"]), 4),
                       n_wd24=int(len(g)), population2021=int(round(g["pop2021"].sum())),
                       wd24_wards="; ".join(f"{c} {n} {100 * s:.0f}%" for c, n, s in
                                            zip(g["wd24cd"], g["wd24nm"], g["share"])))
        else:
            row.update(note=NOT_DRAWN, wd24cd="", wd24nm="", wd24_share=float("nan"), n_wd24=0,
                       population2021=0, wd24_wards="")
        rows.append(row)
    out = pd.DataFrame(rows, columns=LISTED_COLUMNS)
    order = {"Priority": 0, "Exemplar": 1}
    return out.sort_values(["status", "lad19nm", "wd19nm"], key=lambda s: s.map(order) if s.name == "status"
                           else s.astype(str)).reset_index(drop=True)


def _local_rows(cfg: PriorityConfig, store) -> pd.DataFrame:
    """Rows for a filled local list (May-2024 ward codes, LSC official wards)."""
    w = store.wards24.set_index("wd24cd")
    rows = []
    for kind, status in (("icb", "Priority"), ("exemplar", "Exemplar")):
        wl = cfg.lists[kind]
        for code in wl.wards:
            drawn = code in w.index
            rows.append({"list": wl.name, "status": status, "wd19cd": "", "wd19nm": "",
                         "lad19cd": w.at[code, "lad19cd"] if drawn else "",
                         "lad19nm": w.at[code, "lad19nm"] if drawn else "", "drawn": drawn,
                         "note": wl.notes.get(code, "") if drawn else "not drawn: no May-2024 ward polygon in LSC",
                         "wd24cd": code, "wd24nm": w.at[code, "wd24nm"] if drawn else "", "wd24_share": 1.0,
                         "n_wd24": 1, "wd24_wards": code, "population2021": 0, "stp": "", "ccg19cd": "",
                         "ccg19nm": "", "icb24cd": "", "list_date": wl.date.isoformat() if wl.date else "",
                         "ward_vintage": "WD24 (May 2024 ward codes)", "list_source": wl.source})
    return pd.DataFrame(rows, columns=LISTED_COLUMNS)


def priority_list(store, icb, config_path: str | Path | None = None, *, which: str = "auto") -> ListedWards:
    """The priority & exemplar wards for an ICB (code/name, see geo.icb.resolve_icb) or England.

    which="auto": the local list of config/priority_wards.yaml when it is filled and the
    ICB is the one config/places.yaml names (LSC), else the NHSE/I 2021 list; "nhsei" or
    "local" force one. The national list's wards belong to the ICB where most of their
    Census 2021 population lives (LSOA 2021 -> ICB April 2024)."""
    from geo.icb import resolve_icb
    from geo.paths import CONFIG_DIR
    if which not in ("auto", "nhsei", "local"):
        from geo.errors import UsageError
        raise UsageError(f"unknown list {which!r}; valid: auto, nhsei, local")
    area = resolve_icb(icb, store)
    cfg = load_config(config_path or CONFIG_DIR / "priority_wards.yaml", set(store.wards24["wd24cd"]))
    filled = any(cfg.lists[k].wards for k in ("icb", "exemplar"))
    if which == "local" or (which == "auto" and filled and area.is_lsc):
        if not area.is_lsc:
            from geo.errors import UsageError
            raise UsageError(f"the local list in config/priority_wards.yaml is for LSC only, not {area.short_name}")
        rows = _local_rows(cfg, store)
        shapes = store.wards24[store.wards24["wd24cd"].isin(set(rows["wd24cd"]))].copy()
        shapes = shapes.merge(rows[["wd24cd", "status"]], on="wd24cd").rename(columns={"wd24cd": "code",
                                                                                      "wd24nm": "name"})
        shapes["approximate_geometry"] = False
        wl = cfg.lists["icb"]
        return ListedWards(area.code, wl.name, wl.date.isoformat() if wl.date else "", "WD24 (May 2024 ward codes)",
                           wl.source, "local", rows, shapes[["code", "name", "status", "approximate_geometry",
                                                             "geometry"]], cfg.problems)
    p = store.priority_nhsei
    if not area.is_england:
        p = p[p["icb24cd"] == area.code]
    rows = listed_ward_rows(pd.DataFrame(p.drop(columns="geometry")), store.ward19_to_ward24, NHSEI_LIST)
    shapes = p[p.geometry.notna()].rename(columns={"wd19cd": "code", "wd19nm": "name"})
    return ListedWards(area.code, NHSEI_LIST["name"], NHSEI_LIST["date"], NHSEI_LIST["ward_vintage"],
                       NHSEI_LIST["source"], "national", rows,
                       shapes[["code", "name", "status", "approximate_geometry", "geometry"]].reset_index(drop=True),
                       cfg.problems if filled else [],
                       store.ward19_to_ward24[store.ward19_to_ward24["wd19cd"].isin(set(rows["wd19cd"]))])
