"""The outreach planner's settings in a link (geo/viewstate.py params `plan`, `planx`).

    plan=k:3,km:1.5,w:core20,c:gp,v:2019,g:500,sep:0,cov:gp+hospital,recent:90,first:2027-03-01,pw:2
    planx=P81001,P81002            (venues excluded)

| key    | meaning                                   | valid (clamped / default)            |
|--------|-------------------------------------------|--------------------------------------|
| k      | stops                                     | 1-40 (5)                             |
| km     | reach, straight-line km                   | 0.5-10, steps of 0.5 (1.5)           |
| min    | reach, minutes (needs a travel-time upload) | 5-60, steps of 5                   |
| w      | weight                                    | core20, population, priority, file   |
| c      | candidate venues                          | gp, hospitals, postcodes, file       |
| v      | IoD vintage                               | 2019, 2025                           |
| g      | postcode grid, m                          | 250, 500, 1000, 2000                 |
| sep    | minimum km between stops                  | 0-20, steps of 0.5                   |
| cov    | already covered by (service categories)   | '+'-separated category names         |
| recent | recent HARI stops: last N days            | 0-730                                |
| first  | first stop on                             | YYYY-MM-DD                           |
| pw     | stops per week                            | 1-7                                  |

Uploaded files (counts, venues, travel times) and what-if clicks are not in a link.
Pure Python; `parse` never raises on content (each bad part is a notice and its default).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = ("core20", "population", "priority", "file")
CANDS = ("gp", "hospitals", "postcodes", "file")
GRIDS = (250, 500, 1000, 2000)
MAX_EXCLUDE = 30
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,12}( [A-Za-z0-9]{1,8})?$")     # ODS codes, postcodes
_CAT = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NUM = re.compile(r"^[+-]?\d{1,6}(\.\d{1,6})?$")


@dataclass(frozen=True)
class PlanLink:
    k: int = 5
    km: float | None = 1.5
    minutes: float | None = None
    weight: str = "core20"
    cand: str = "gp"
    vintage: int = 2025
    grid_m: int = 500
    min_km: float = 0.0
    existing: tuple = ()
    recent_days: int = 90
    first: str | None = None
    per_week: int = 2
    exclude: tuple = ()


def _clamp(x: float, lo: float, hi: float, step: float) -> float:
    return round(min(max(x, lo), hi) / step) * step


def parse(plan: str | None, planx: str | None, note) -> PlanLink:
    """PlanLink from the two params; `note(param, message)` for each part not used."""
    out: dict = {}
    for part in [p for p in (plan or "").split(",") if p.strip()]:
        key, _, raw = part.strip().partition(":")
        raw = raw.strip()
        num = float(raw) if _NUM.fullmatch(raw) else None
        shown = key if _CAT.fullmatch(key) else "(a key that cannot be shown)"
        if key in ("k", "km", "min", "sep", "recent", "pw") and num is None:
            note("plan", f"Plan setting '{shown}' needs a number; using its default.")
            continue
        if key == "k":
            out["k"] = int(_clamp(num, 1, 40, 1))
        elif key == "km":
            out["km"], out["minutes"] = float(_clamp(num, 0.5, 10, 0.5)), None
        elif key == "min":
            out["minutes"], out["km"] = float(_clamp(num, 5, 60, 5)), None
        elif key == "sep":
            out["min_km"] = float(_clamp(num, 0, 20, 0.5))
        elif key == "recent":
            out["recent_days"] = int(_clamp(num, 0, 730, 1))
        elif key == "pw":
            out["per_week"] = int(_clamp(num, 1, 7, 1))
        elif key in ("w", "c", "v", "g"):
            choices = {"w": WEIGHTS, "c": CANDS, "v": ("2019", "2025"), "g": tuple(map(str, GRIDS))}[key]
            if raw not in choices:
                note("plan", f"Plan setting '{key}' must be one of {', '.join(choices)}; using its default.")
            elif key in ("w", "c"):
                out["weight" if key == "w" else "cand"] = raw
            else:
                out["vintage" if key == "v" else "grid_m"] = int(raw)
        elif key == "cov":
            cats = [c for c in raw.split("+") if c]
            if all(_CAT.fullmatch(c) for c in cats) and len(cats) <= 12:
                out["existing"] = tuple(sorted(set(cats)))
            else:
                note("plan", "Plan setting 'cov' must be service categories joined by '+'; using none.")
        elif key == "first":
            try:
                out["first"] = dt.date.fromisoformat(raw).isoformat()
            except ValueError:
                note("plan", "Plan setting 'first' must be a date (YYYY-MM-DD); using the default.")
        else:
            note("plan", f"Unknown plan setting '{shown}' ignored.")
    ids = list(dict.fromkeys(x.strip() for x in (planx or "").split(",") if x.strip()))
    good = [x for x in ids if _ID.fullmatch(x)]
    if len(good) < len(ids):
        note("planx", f"{len(ids) - len(good)} excluded venue id(s) in the link could not be read; ignored.")
    if len(good) > MAX_EXCLUDE:
        note("planx", f"Only the first {MAX_EXCLUDE} excluded venues in the link are used.")
    out["exclude"] = tuple(good[:MAX_EXCLUDE])
    return PlanLink(**out)


def _g(x: float) -> str:
    return f"{x:g}"


def format_plan(p: PlanLink) -> tuple[str, str]:
    """(plan, planx) strings; planx empty when nothing is excluded."""
    parts = [f"k:{p.k}", f"km:{_g(p.km)}" if p.km is not None else f"min:{_g(p.minutes or 15)}",
             f"w:{p.weight}", f"c:{p.cand}", f"v:{p.vintage}"]
    if p.cand == "postcodes":
        parts.append(f"g:{p.grid_m}")
    if p.min_km:
        parts.append(f"sep:{_g(p.min_km)}")
    if p.existing:
        parts.append("cov:" + "+".join(p.existing))
    parts.append(f"recent:{p.recent_days}")
    if p.first:
        parts.append(f"first:{p.first}")
    parts.append(f"pw:{p.per_week}")
    return ",".join(parts), ",".join(x for x in p.exclude if _ID.fullmatch(x))[:200]


def from_layer_state(s: dict) -> PlanLink:
    """PlanLink from the planner layer's state dict (ctx.state["planner"])."""
    first = s.get("first")
    first = first.isoformat() if isinstance(first, dt.date) else (str(first) if first else None)
    ex = [str(x) for x in s.get("exclude") or [] if _ID.fullmatch(str(x))][:MAX_EXCLUDE]
    return PlanLink(k=int(s.get("k", 5)), km=s.get("radius_km"),
                    minutes=s.get("minutes") if s.get("radius_km") is None else None,
                    weight=s.get("weight") or "core20", cand=s.get("cand") or "gp",
                    vintage=int(s.get("vintage", 2025)), grid_m=int(s.get("grid_m", 500)),
                    min_km=float(s.get("min_km", 0)), existing=tuple(sorted(s.get("existing") or [])),
                    recent_days=int(s.get("recent_days", 90)), first=first, per_week=int(s.get("per_week", 2)),
                    exclude=tuple(ex))


def to_layer_state(p: PlanLink, on: bool = True) -> dict:
    """The planner layer's state dict for a link (exports outside the app: no uploads)."""
    return {"on": on, "k": p.k, "radius_km": p.km if p.minutes is None else None, "minutes": p.minutes,
            "travel": None, "weight": p.weight, "weights_file": None, "vintage": p.vintage, "cand": p.cand,
            "grid_m": float(p.grid_m), "venues_file": None, "existing": list(p.existing),
            "recent_days": p.recent_days, "min_km": p.min_km, "exclude": list(p.exclude),
            "first": dt.date.fromisoformat(p.first) if p.first else dt.date.today() + dt.timedelta(days=7),
            "per_week": p.per_week, "whatif_on": False}
