"""Saved outreach plans and planned schedules, in the user-data store (geo.userdb).

A *plan* (kind "plan") is one JSON document: the planner's inputs (area, k, reach,
weight, vintage, candidates, exclusions, existing sites, first date, stops per week,
what-if points), the stops it chose (id, name, lat/lon, BNG, marginal gain) and a short
summary. Every save is a new version (geo.userdb): two people saving under one name at
once both keep their version; a deletion is a soft delete that `restore_plan` undoes.

A *schedule* is the plan's stops as dated HARI bus events (status "planned"; dates from
the first date and stops per week) saved as a services file (geo.saved_services, kind
"services"): the services layer, the outreach "days since / next visit" columns and the
access figures (dated events inside the access event window) read it like any saved file.

    doc = plan_document(inputs, result, area)       # JSON-able dict
    save_plan(name, doc, created_by=...) -> userdb.Saved
    load_plan(name) -> dict                          # checked; GeoError with a message
    list_plans(removed=False) -> [userdb.Entry]
    remove_plan(name) / restore_plan(name) -> userdb.Entry
    save_schedule(result, first, per_week, name) -> (userdb.Saved, ImportResult)

Uploaded files a plan used (counts per LSOA, venues, travel times) are not copied into
the plan: their names and sha256 are kept so the app can ask for the same file again.
Pure Python (no streamlit).
"""
from __future__ import annotations

import datetime as dt
import json
import math

from geo import planner as pl
from geo import userdb
from geo.errors import GeoError

KIND = "plan"
FORMAT = 1
# the inputs a plan keeps, with the type each must have when read back
INPUTS = {"k": int, "reach": str, "radius_km": float, "minutes": float, "weight": str, "vintage": int,
          "cand": str, "grid_m": float, "existing": list, "recent_days": int, "min_km": float,
          "exclude": list, "first": str, "per_week": int, "whatif": list, "files": dict}
MAX_STOPS = 200


def _db(db):
    return db if db is not None else userdb.open_store()


def _num(v):
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def plan_document(inputs: dict, result: pl.PlanResult, area: dict) -> dict:
    """The saved form of a plan: inputs, area, stops (greedy order) and a summary."""
    ins = {k: inputs.get(k) for k in INPUTS if k in inputs}
    if isinstance(ins.get("first"), dt.date):
        ins["first"] = ins["first"].isoformat()
    stops = [{"id": s.id, "name": s.name, "lat": round(s.lat, 6), "lon": round(s.lon, 6),
              "easting": round(s.easting, 1), "northing": round(s.northing, 1), "postcode": s.postcode,
              "marginal_weight": round(float(s.marginal_weight), 3), "whatif": bool(s.whatif)}
             for s in result.stops]
    summary = {"covered_weight": round(result.covered_weight, 3), "total_weight": round(result.total_weight, 3),
               "already_covered_weight": round(result.already_covered_weight, 3),
               "share": _num(result.share), "optimal": bool(result.optimal), "gap": _num(result.gap),
               "status": result.status, "method": result.method, "weight_label": result.weight_label,
               "radius_km": result.radius_km, "minutes": result.minutes}
    return {"format": FORMAT, "area": {"kind": area.get("kind") or "icb", "code": area.get("code"),
                                       "name": area.get("name") or "the whole ICB"},
            "inputs": ins, "stops": stops, "summary": summary}


def _check(name: str, doc) -> dict:
    """The document, or a GeoError saying what is wrong with it (never a traceback)."""
    where = f"saved plan '{name}'"
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), dict) or not isinstance(doc.get("stops"), list):
        raise GeoError(f"{where} is not a plan (inputs and stops missing)")
    if doc.get("format") != FORMAT:
        raise GeoError(f"{where} has format {doc.get('format')!r}; this version reads format {FORMAT}")
    ins = doc["inputs"]
    for k, v in list(ins.items()):
        want = INPUTS.get(k)
        if want is None:
            ins.pop(k)                    # a newer key: ignored
        elif v is not None and not isinstance(v, want) and not (want is float and isinstance(v, int)):
            raise GeoError(f"{where}: input '{k}' should be {want.__name__}, not {type(v).__name__}")
    if len(doc["stops"]) > MAX_STOPS:
        raise GeoError(f"{where} has {len(doc['stops'])} stops (at most {MAX_STOPS})")
    for i, s in enumerate(doc["stops"], start=1):
        if not isinstance(s, dict) or not all(k in s for k in ("id", "name", "lat", "lon")):
            raise GeoError(f"{where}: stop {i} lacks id, name, lat or lon")
        try:
            lat, lon = float(s["lat"]), float(s["lon"])
        except (TypeError, ValueError):
            raise GeoError(f"{where}: stop {i} has a lat/lon that is not a number") from None
        if not (49 <= lat <= 61 and -8 <= lon <= 2):
            raise GeoError(f"{where}: stop {i} is outside Great Britain ({lat:g}, {lon:g})")
    if not isinstance(doc.get("area"), dict):
        doc["area"] = {"kind": "icb", "code": None, "name": "the whole ICB"}
    return doc


def save_plan(name: str, doc: dict, *, created_by: str | None = None, db=None) -> userdb.Saved:
    """Save `doc` under `name` (a new version when it differs from the current one)."""
    doc = _check(str(name), json.loads(json.dumps(doc)))
    data = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")
    meta = {"area": doc["area"].get("name"), "stops": len(doc["stops"]), "k": doc["inputs"].get("k"),
            "share": doc["summary"].get("share") if isinstance(doc.get("summary"), dict) else None,
            "weight": doc["inputs"].get("weight")}
    return _db(db).save(KIND, name, data, created_by=created_by, rows=len(doc["stops"]), meta=meta,
                        source_file="outreach planner")


def load_plan(name: str, version: int | None = None, db=None) -> dict:
    d = _db(db)
    v = d.version(KIND, name, version) if version is not None else d.current(KIND, name)
    if v is None:
        raise userdb.NotFound(f"no saved plan named '{name}' (it may have been deleted)")
    try:
        doc = json.loads(v.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise GeoError(f"saved plan '{name}' version {v.version} is not readable JSON ({e})") from None
    doc = _check(name, doc)
    doc["saved"] = {"name": v.name, "version": v.version, "created_at": v.created_at.isoformat(),
                    "created_by": v.created_by}
    return doc


def list_plans(removed: bool = False, db=None) -> list[userdb.Entry]:
    return _db(db).list(KIND, removed=removed)


def remove_plan(name: str, *, by: str | None = None, db=None) -> userdb.Entry:
    return _db(db).remove(KIND, name, by=by)


def restore_plan(name: str, *, by: str | None = None, db=None) -> userdb.Entry:
    return _db(db).restore(KIND, name, by=by)


def schedule_name(plan_name: str) -> str:
    """The services file a plan's schedule is saved as."""
    return f"{str(plan_name).strip()} (planned HARI schedule).csv"


def save_schedule(result: pl.PlanResult, first, per_week: int, name: str, *, created_by: str | None = None,
                  operator: str = "", offer: str = "", db=None):
    """The plan's stops as planned HARI bus events, saved as a services file named
    `schedule_name(name)`: (userdb.Saved, the validated ImportResult)."""
    from geo import saved_services as ss
    from geo import services as sv
    from geo.csvsafe import safe_csv_bytes
    if not result.stops:
        raise GeoError("the plan has no stops: nothing to schedule")
    sched = pl.schedule_frame(result, first, per_week, operator=operator, offer=offer, status="planned")
    fname = schedule_name(name)
    res = sv.import_bytes(safe_csv_bytes(sched), fname, data_date=f"planned {dt.date.today().isoformat()}")
    if res.fatal or len(res.rejected):
        why = res.fatal or f"row {res.rejected['row'].iloc[0]}: {res.rejected['reason'].iloc[0]}"
        raise GeoError(f"{fname}: the schedule did not pass the services validator ({why}); nothing saved")
    return ss.save_result(res, fname, created_by=created_by, db=db), res
