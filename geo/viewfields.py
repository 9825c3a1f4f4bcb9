"""The built-in layers' link fields (geo/viewstate.py `Field`): what each layer's
parameters are called in a link, how they are parsed (with the notice when a value
cannot be used), written, and which session widget key / layer state name they map to.

Pure declarations, so exports and CLIs read a link without the app. Each tuple belongs
to one layer, which declares it as its own (`fields = viewfields.DEPRIVATION` in
layers/deprivation.py); the generic code in geo/viewstate.py and layers/share_state.py
loops over them. A new layer declares its Fields in its own module instead.
"""
from __future__ import annotations

import re

from geo.store import MEASURES
from geo.viewstate import MISSING, Field, Parse, _bool, _float, _int, _quote, register

VINTAGES = (2019, 2025)
DECILES = ("national", "local")
PRIO_KINDS = ("icb", "exemplar", "candidate")
CANDIDATE_RANKS = ("pct_core20", "core20_population", "imd_score", "pct_decile1", "avg_rank")
CANDIDATE_PER = ("place5", "place4", "lad19cd", "icb")
CLASSIFICATIONS = ("quantiles", "equal_interval", "natural_breaks", "fixed")
N_RANGE = (1, 50)
K_RANGE = (2, 9)
K_SLIDER = (3, 7)           # the indicators layer's classes slider
MAX_BREAKS = 12
THR_RANGE = (0.5, 40.0)     # access threshold, km (the app's slider)
THR_STEP = 0.5
MAX_CATS = 12

_IND = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_CAT = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


# ---------------------------------------------------------------- parsers (raw, p) -> value | MISSING
def choice(name: str, choices) -> callable:
    def parse(raw: str, p: Parse):
        v = raw.strip()
        if v in choices:
            return v
        p.bad(name, f" (valid: {', '.join(map(str, choices))})")
        return MISSING
    return parse


def flag(name: str) -> callable:
    def parse(raw: str, p: Parse):
        b = _bool(raw)
        if b is None:
            p.bad(name, " (valid: 0, 1)")
            return MISSING
        return b
    return parse


def int_range(name: str, lo: int, hi: int) -> callable:
    def parse(raw: str, p: Parse):
        v = _int(raw)
        if v is None:
            p.bad(name)
            return MISSING
        c = min(max(v, lo), hi)
        if c != v:
            p.note(name, f"Parameter '{name}' is out of range ({lo}-{hi}); using {c}.")
        return c
    return parse


def _vintage(raw: str, p: Parse):
    v = _int(raw)
    if v in VINTAGES:
        return v
    p.bad("vintage", " (valid: 2019, 2025)")
    return MISSING


def _prio(raw: str, p: Parse):
    parts = [x.strip() for x in raw.split(",") if x.strip()]
    if all(x in PRIO_KINDS for x in parts):
        return tuple(k for k in PRIO_KINDS if k in parts)
    p.bad("prio", f" (valid: {', '.join(PRIO_KINDS)})")
    return MISSING


def _brk(raw: str, p: Parse):
    parts = [x for x in raw.split(",") if x.strip()]
    nums = [_float(x) for x in parts]
    if not parts or len(parts) > MAX_BREAKS or any(x is None or abs(x) > 1e12 for x in nums):
        p.bad("brk", f" (up to {MAX_BREAKS} comma-separated numbers)")
        return MISSING
    return tuple(sorted(set(nums)))


def _ind(raw: str, p: Parse):
    v = raw.strip()
    if not _IND.fullmatch(v):
        p.bad("ind")
        return MISSING
    if p.known.indicators and v not in p.known.indicators:
        p.note("ind", f"Indicator {_quote(v)} is not available any more; no indicator is shown.")
        return MISSING
    return v


def categories(name: str, none: bool = False) -> callable:
    """A comma list of service categories (config/services.yaml, p.known.categories);
    `none`: the word "none" means the empty list."""
    def parse(raw: str, p: Parse):
        if none and raw.strip() == "none":
            return ()
        parts = list(dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()))
        if not parts or len(parts) > MAX_CATS or not all(_CAT.fullmatch(x) for x in parts):
            p.bad(name, " (a comma list of service categories)")
            return MISSING
        ok = [x for x in parts if not p.known.categories or x in p.known.categories]
        wrong = [x for x in parts if x not in ok]
        if wrong:
            p.note(name, "Unknown service categor" + ("y" if len(wrong) == 1 else "ies") + " ignored: "
                   + ", ".join(_quote(x) for x in wrong[:5]) + ".")
        return tuple(sorted(ok)) if ok else MISSING
    return parse


def snap_thr(v) -> float:
    """A threshold clamped to the slider's range and snapped to its step."""
    return float(round(min(max(float(v), THR_RANGE[0]), THR_RANGE[1]) / THR_STEP) * THR_STEP)


def _thr(raw: str, p: Parse):
    f = _float(raw)
    if f is None:
        p.bad("thr", " (a distance in km)")
        return MISSING
    c = snap_thr(f)
    if not THR_RANGE[0] <= f <= THR_RANGE[1]:
        p.note("thr", f"Parameter 'thr' is out of range ({THR_RANGE[0]:g}-{THR_RANGE[1]:g} km); using {c:g}.")
    return c


def _plan(raw, p: Parse):
    from geo.plan_link import parse
    return parse(p.vals.get("plan"), p.vals.get("planx"), p.note)


def _format_plan(v) -> dict:
    from geo.plan_link import format_plan
    plan, x = format_plan(v)
    return {"plan": plan, "planx": x or None}


def _bit(v) -> str:
    return "1" if v else "0"


def _join(v) -> str | None:
    return ",".join(v) if v else None


# ---------------------------------------------------------------- the built-in layers' fields
DEPRIVATION = (
    Field("measure", choice("measure", MEASURES), default="imd", key="deprivation_measure", state="measure"),
    Field("vintage", _vintage, default=2025, key="deprivation_vintage", to_state=int, state="vintage",
          from_state=int),
    Field("deciles", choice("deciles", DECILES), default="national", key="deprivation_local",
          to_state=lambda v: v == "local", state="local", from_state=lambda b: "local" if b else "national"),
    Field("core20", flag("core20"), format=_bit, default=True, key="deprivation_core20", to_state=bool,
          state="core20", from_state=bool),
)
WARDS = (
    Field("labels", flag("labels"), format=_bit, default=True, key="wards_labels", to_state=bool, state="labels",
          from_state=bool),
)
# prio seeds one checkbox per kind and n/rank/per come back from the rule: layers/priority.py
PRIORITY = (
    Field("prio", _prio, format=lambda v: ",".join(v)),
    Field("n", int_range("n", *N_RANGE), key="priority_n", to_state=int),
    Field("rank", choice("rank", CANDIDATE_RANKS), key="priority_measure"),
    Field("per", choice("per", CANDIDATE_PER), key="priority_per"),
)
# ind seeds the dataset and the indicator; what is written back depends on the method: layers/indicators.py
INDICATORS = (
    Field("ind", _ind),
    Field("cls", choice("cls", CLASSIFICATIONS), key="indicators_method"),
    Field("k", int_range("k", *K_RANGE), key="indicators_k", to_state=lambda v: min(max(int(v), K_SLIDER[0]),
                                                                                    K_SLIDER[1])),
    Field("brk", _brk, format=lambda v: ",".join(f"{b:g}" for b in v) if v else None, key="indicators_thresholds",
          to_state=lambda v: ", ".join(f"{b:g}" for b in v)),
)
ACCESS = (
    Field("acc", categories("acc"), format=_join, key="access_cats", to_state=list),
    Field("thr", _thr, format=lambda v: f"{v:g}", key="access_thr_km", to_state=snap_thr),
)
# one checkbox per category: layers/services.py
SERVICES = (
    Field("svc", categories("svc", none=True), format=lambda v: ",".join(v) or "none"),
)
# the planner's settings (geo/plan_link.py), seeded by layers/planner.py
PLANNER = (
    Field("plan", _plan, format=_format_plan, extra=("planx",)),
)

BUILTIN = {"deprivation": DEPRIVATION, "wards": WARDS, "priority": PRIORITY, "indicators": INDICATORS,
           "access": ACCESS, "services": SERVICES, "planner": PLANNER}
for _layer, _fields in BUILTIN.items():
    register(_layer, _fields)
