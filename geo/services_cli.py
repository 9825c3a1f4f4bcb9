"""`python -m geo services ...`: check, save, list and remove saved service files.

    python -m geo services check FILE [--format json] [--category CAT]
        validate without saving; exit 0 when the file was read (even with rejected
        rows), 1 when it was refused. JSON: {"file", "loaded", "rejected": [{"row",
        "field", "reason"}], "fatal": [...], "warnings": [{"row", "field", "warning"}]}
    python -m geo services save FILE [--name NAME] [--category CAT]
        validate and save the accepted rows as a new version of NAME (default: the
        file's name); saving identical rows again adds nothing. Exit 1 if refused.
    python -m geo services list [--format json] [--removed]
        one entry per saved file: name, version, rows, when and by whom
    python -m geo services remove NAME     (undo: python -m geo services restore NAME)
    python -m geo services restore NAME
    python -m geo services history NAME [--format json]

LSC_USER_DATA_DIR chooses the folder of the store (userdata.sqlite); LSC_DATABASE_URL
a PostgreSQL database instead (geo/userdb.py). Validation is geo.services' reader.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from geo.errors import GeoError

# reason text (geo.services.validate_rows / read_table) -> the field it is about
_FIELDS = [
    (r"^no location|^point outside the footprint", "location"),
    (r"^missing name|^name ", "name"),
    (r"^unknown subcategory", "subcategory"),
    (r"category", "category"),
    (r"^status ", "status"),
    (r"^bad (?:date|time) in '([a-z_]+)'", None),
    (r"^closed date", "closed"),
    (r"^end_time", "end_time"),
    (r"event_date", "event_date"),
    (r"^postcode|unknown postcode", "postcode"),
    (r"^lat/lon|^only one of lat/lon", "lat/lon"),
    (r"easting/northing", "easting/northing"),
    (r"site_ref", "site_ref"),
    (r"^duplicate id", "id"),
    (r"^'([a-z_]+)' starts with", None),
    (r"^coordinates", "location"),
]


def field_of(reason: str) -> str | None:
    """The field a row problem is about (None when it is about the whole row)."""
    for pat, name in _FIELDS:
        m = re.search(pat, reason)
        if m:
            return name or m.group(1)
    return None


def _problems(frame, col: str) -> list[dict]:
    out = []
    for r in frame.to_dict("records"):
        text = str(r.get(col) or "")
        row = r.get("row")
        row = int(row) if row is not None and str(row).lstrip("-").isdigit() else None
        given = r.get("field")          # a validator that names the field wins
        parts = [text] if given else [p for p in re.split(r"; (?=[a-z'])", text) if p]
        for p in parts or [text]:
            out.append({"row": row, "field": given or field_of(p), col: p})
    return out


def check_report(result, file_label: str) -> dict:
    """The JSON contract of `services check` for one ImportResult."""
    warnings = _problems(result.warnings, "warning") + [
        {"row": None, "field": None, "warning": n} for n in result.notes]
    return {"file": file_label, "loaded": int(len(result.records)),
            "rejected": _problems(result.rejected, "reason"),
            "fatal": [result.fatal] if result.fatal else [], "warnings": warnings}


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="{check,save,list,remove,restore,history}", required=True)
    c = sub.add_parser("check", help="Validate a service file without saving it")
    c.add_argument("file")
    c.add_argument("--format", choices=["text", "json"], default="text")
    c.add_argument("--category", help="category for rows that have none")
    s = sub.add_parser("save", help="Validate a service file and save its accepted rows")
    s.add_argument("file")
    s.add_argument("--name", help="name to save under (default: the file's name)")
    s.add_argument("--category", help="category for rows that have none")
    ls = sub.add_parser("list", help="List saved service files")
    ls.add_argument("--format", choices=["text", "json"], default="text")
    ls.add_argument("--removed", action="store_true", help="include removed files")
    for name, helptext in (("remove", "Remove a saved service file (undo with restore)"),
                           ("restore", "Bring back a removed service file")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("name")
    h = sub.add_parser("history", help="All versions of a saved service file")
    h.add_argument("name")
    h.add_argument("--format", choices=["text", "json"], default="text")


def _validate(args):
    from geo import services as sv
    from geo.errors import UsageError
    if args.category:
        cats = sv.category_names()
        if args.category not in cats:
            raise UsageError(f"argument --category: invalid choice '{args.category}' (choose from {', '.join(cats)})")
    return sv.import_file(args.file, default_category=args.category)


def _print_report(rep: dict, out=sys.stdout) -> None:
    if rep["fatal"]:
        for f in rep["fatal"]:
            print(f"{rep['file']}: refused: {f}", file=out)
        return
    print(f"{rep['file']}: {rep['loaded']} row(s) loaded, {len({r['row'] for r in rep['rejected']})} rejected, "
          f"{len(rep['warnings'])} warning(s)", file=out)
    for r in rep["rejected"]:
        where = f"row {r['row']}" if r["row"] is not None else "file"
        print(f"  rejected {where}" + (f" [{r['field']}]" if r["field"] else "") + f": {r['reason']}", file=out)
    for w in rep["warnings"]:
        where = f"row {w['row']}" if w["row"] is not None else "note"
        print(f"  warning {where}" + (f" [{w['field']}]" if w["field"] else "") + f": {w['warning']}", file=out)


def _entry_json(e, rows) -> dict:
    return {"name": e.name, "version": e.version, "versions": e.versions, "rows": rows, "sha256": e.sha256,
            "created_at": e.created_at.isoformat(), "created_by": e.created_by, "source_file": e.source_file,
            "removed": e.removed}


def _list(args) -> int:
    from geo import saved_services as ss
    from geo import userdb
    db = userdb.open_store()
    entries = db.list(ss.KIND, removed=args.removed)
    need = [e.name for e in entries if e.rows is None]
    counted = {e.name: int(len(r.records)) for e, r in ss.saved_results(db=db) if e.name in need} if need else {}
    rows = {e.name: e.rows if e.rows is not None else counted.get(e.name) for e in entries}
    if args.format == "json":
        print(json.dumps([_entry_json(e, rows[e.name]) for e in entries], indent=1))
        return 0
    if not entries:
        print(f"no saved service files in {db.location}")
        return 0
    print(f"{len(entries)} saved service file(s) in {db.location}")
    for e in entries:
        gone = f"  REMOVED {e.removed_at:%Y-%m-%d %H:%M} by {e.removed_by}" if e.removed else ""
        print(f"  {e.name}: {rows[e.name] if rows[e.name] is not None else '?'} row(s), version {e.version} "
              f"of {e.versions}, saved {e.created_at:%Y-%m-%d %H:%M} UTC by {e.created_by}{gone}")
    return 0


def _history(args) -> int:
    from geo import userdb
    vs = userdb.open_store().history("services", args.name)
    if args.format == "json":
        print(json.dumps([{"version": v.version, "sha256": v.sha256, "rows": v.rows, "size": v.size,
                           "created_at": v.created_at.isoformat(), "created_by": v.created_by,
                           "source_file": v.source_file} for v in vs], indent=1))
        return 0
    for v in vs:
        print(f"version {v.version}: {v.rows if v.rows is not None else '?'} row(s), {v.size:,} bytes, "
              f"{v.created_at:%Y-%m-%d %H:%M:%S} UTC by {v.created_by} (from {v.source_file}) sha256 {v.sha256[:12]}")
    return 0


def run(args) -> int:
    from geo import userdb
    if args.action == "check":
        res = _validate(args)
        rep = check_report(res, str(args.file))
        if args.format == "json":
            print(json.dumps(rep, indent=1, default=str))
        else:
            _print_report(rep, sys.stdout if res.ok else sys.stderr)
        return 0 if res.ok else 1
    if args.action == "save":
        res = _validate(args)
        rep = check_report(res, str(args.file))
        _print_report(rep, sys.stderr)
        if not res.ok:
            return 1
        if not len(res.records):
            raise GeoError(f"{args.file}: not saved: no row was accepted")
        from geo import saved_services as ss
        saved = ss.save_result(res, args.name or Path(args.file).name)
        print(f"{saved.message} ({len(res.records)} row(s); store: {userdb.open_store().location})")
        return 0
    if args.action == "list":
        return _list(args)
    if args.action == "history":
        return _history(args)
    db = userdb.open_store()
    if args.action == "remove":
        e = db.remove("services", args.name)
        print(f"Removed '{e.name}' ({e.rows if e.rows is not None else '?'} row(s), version {e.version}); "
              f"undo: python -m geo services restore '{e.name}'")
        return 0
    e = db.restore("services", args.name)
    print(f"Restored '{e.name}' (version {e.version}).")
    return 0
