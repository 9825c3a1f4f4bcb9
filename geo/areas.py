"""Custom areas ("neighbourhoods"): a named set of LSOA 2021s of one ICB, saved for next time.

An area is built from LSOAs: a person picks wards or LSOAs (or pastes / uploads a list of
codes) and each ward stands for the LSOA 2021s the store's best-fit lookup assigns to it
(the footprint view's `lsoa25.wd24cd`, the same assignment the ward figures use). LSOAs
do not nest in wards, so an area made of wards follows LSOA edges, not ward boundaries:
`LSOA_BUILT_NOTE` says so wherever the area is shown.

    view = geo.footprint.footprint(store, "E54000048")
    parsed = parse_codes(view, data, "my_area.csv")   # ward / LSOA21 / LSOA11 codes
    parsed.problems                                    # [Problem(row, code, reason)]: left out
    area = make_area(view, "Central Blackpool", parsed)
    save_area(area) -> userdb.Saved                    # a new version when it differs
    list_areas(icb) / load_area(name, icb) / remove_area(name, icb) / restore_area(name, icb)
    summary_row(view, area, vintage=2025)             # the official measures, as for a place
    area_wards(view, area)                            # the wards its LSOAs best-fit to

Codes accepted: May-2024 ward codes (E05), Dec-2019 ward codes (E05, through the LSOAs'
2019 ward), LSOA 2021 codes (E01), LSOA 2011 codes (E01, carried to their 2021 LSOA(s) by
the ONS 2011->2021 lookup). Unknown codes and codes outside the ICB are reported by row
and the rest kept. Areas are per ICB: the stored item is named "<ICB code>:<name>" (kind
"area" of geo.userdb: versioned, idempotent, undoable removals). Pure Python.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace

import pandas as pd

from geo import userdb
from geo.errors import GeoError

KIND = "area"
FORMAT = 1
PREFIX = "custom"                 # the area filter's / link's kind: area=custom:NAME
NAME_MAX = 80
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
LSOA_BUILT_NOTE = ("LSOA-built: the area is a set of LSOA 2021s; a ward stands for the LSOAs the best-fit "
                   "lookup assigns to it (LSOAs do not nest in wards, so the edge follows LSOA boundaries)")
_CODE = re.compile(r"^[A-Z]\d{8}$")
_HEADERS = ("code", "codes", "lsoa21cd", "lsoa11cd", "lsoa", "lsoacode", "lsoa21", "lsoa11", "lsoa2021",
            "lsoa2011", "wd24cd", "wd19cd", "ward", "wardcode", "wd24", "areacode", "geographycode", "gss")


@dataclass(frozen=True)
class Problem:
    """One code left out: its row in the file (None for a picked code), the code as given
    (trimmed) and why."""
    row: int | None
    code: str
    reason: str

    def text(self, source: str = "") -> str:
        where = f"row {self.row}" if self.row is not None else "picked"
        return f"{source + ': ' if source else ''}{where}: {self.reason}"


@dataclass
class Parsed:
    """What a list of codes gave: the LSOA 2021s kept (first-seen order), the wards they
    came through, what was left out and notes (duplicates, 2011 codes carried over)."""
    source: str
    lsoa21: list = field(default_factory=list)
    wards: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    rows: int = 0
    fatal: str = ""

    def messages(self) -> list[str]:
        out = [f"{self.source}: {self.fatal}"] if self.fatal else []
        return out + [p.text(self.source) for p in self.problems]


@dataclass(frozen=True)
class CustomArea:
    name: str
    icb: str
    icb_name: str
    lsoa21: tuple                       # sorted LSOA 2021 codes
    wards: tuple = ()                   # ward codes given (May 2024), if any
    source: str = ""
    note: str = LSOA_BUILT_NOTE
    lsoa11: tuple = ()                  # LSOA 2011s whose best-fit 2021 LSOA is in the area (IoD2019)
    fit_wards: tuple = ()               # May-2024 wards its LSOA 2021s best-fit to
    version: int | None = None
    created_at: str | None = None
    created_by: str | None = None

    @property
    def key(self) -> str:
        """The area filter's option and the link's value: custom:NAME."""
        return f"{PREFIX}:{self.name}"

    def document(self) -> dict:
        return {"format": FORMAT, "name": self.name, "icb": self.icb, "icb_name": self.icb_name,
                "lsoa21": list(self.lsoa21), "wards": list(self.wards), "source": self.source,
                "note": self.note, "lsoa11": list(self.lsoa11), "fit_wards": list(self.fit_wards)}


def clean_area_name(name) -> str:
    """The name as saved: NFC, inner whitespace collapsed, 1-80 characters, no control
    characters (GeoError otherwise). Any other character is kept and escaped where shown."""
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(name if name is not None else ""))).strip()
    if not s:
        raise GeoError("a custom area needs a name")
    if any(unicodedata.category(ch) == "Cc" for ch in s):
        raise GeoError("the area's name contains control characters")
    if len(s) > NAME_MAX:
        raise GeoError(f"the area's name is longer than {NAME_MAX} characters")
    return s


# ---------------------------------------------------------------- reading a list of codes
def _text(data, source: str) -> tuple[str | None, str]:
    if isinstance(data, str):
        return data, ""
    b = bytes(data or b"")
    if len(b) > MAX_BYTES:
        return None, f"the file is {len(b):,} bytes, over the {MAX_BYTES // 2**20} MB limit for a list of codes"
    if b"\x00" in b[:4096]:
        return None, "this is not a text file (CSV or TXT with one code per line)"
    try:
        return b.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return b.decode("cp1252", errors="replace"), ""


def _norm_header(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(s).lower())


def _code(s: str) -> str:
    return re.sub(r"\s+", "", str(s)).strip("'\"").upper()


def read_codes(data, source: str = "pasted list") -> tuple[list[tuple[int, str]], str, list[str]]:
    """(rows, fatal, notes): each non-blank row's (file row number, code cell) from a TXT
    (one code per line) or CSV (the column headed code/lsoa21cd/wd24cd/..., else the
    column that holds codes). fatal is a message when nothing can be read."""
    text, fatal = _text(data, source)
    if fatal:
        return [], fatal, []
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        return [], "the list is empty: no code to read", []
    notes = []
    if len(lines) > MAX_ROWS:
        notes.append(f"only the first {MAX_ROWS:,} of {len(lines):,} rows were read")
        lines = lines[:MAX_ROWS]
    sample = "\n".join(lines[:50])
    delim = next((d for d in (",", "\t", ";", "|") if d in sample), None)
    rows = list(csv.reader(lines, delimiter=delim)) if delim else [[ln] for ln in lines]
    first = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), 0)
    head = [_norm_header(c) for c in rows[first]]
    col, start = None, first
    if not any(_CODE.fullmatch(_code(c)) for c in rows[first]):
        start = first + 1                         # a header row (or junk): named column, else the codes
        for name in _HEADERS:
            if name in head:
                col = head.index(name)
                break
    if col is None:
        width = max(len(r) for r in rows)
        counts = [sum(1 for r in rows[start:] if i < len(r) and _CODE.fullmatch(_code(r[i]))) for i in range(width)]
        col = max(range(width), key=lambda i: (counts[i], -i))
    if delim and start > first:
        notes.append(f"codes read from the column '{rows[first][col].strip()[:40]}'")
    out = [(i + 1, (r[col] if col < len(r) else "").strip()) for i, r in enumerate(rows) if i >= start]
    return [(n, c) for n, c in out if c], "", notes


# ---------------------------------------------------------------- codes -> LSOA 2021
def _obj(s: pd.Series):
    return s.to_numpy(dtype=object, na_value=None)


def _groups(keys: pd.Series, values: pd.Series) -> dict:
    out: dict = {}
    for k, v in zip(_obj(keys), _obj(values)):
        if isinstance(k, str):
            out.setdefault(k, []).append(v)
    return out


def _tables(view) -> dict:
    """Look-ups of the footprint (cached on the view object)."""
    cache = view.__dict__.setdefault("_areas_lookup", {})
    if cache:
        return cache
    from geo.footprint import national
    l25 = pd.DataFrame(view.lsoa25.drop(columns="geometry"))
    cache["mine"] = set(l25["lsoa21cd"])
    cache["by_ward"] = _groups(l25["wd24cd"], l25["lsoa21cd"])
    cache["by_ward19"] = _groups(l25["wd19cd"], l25["lsoa21cd"])
    cache["ward_names"] = dict(zip(view.wards24["wd24cd"], view.wards24["wd24nm"]))
    base = getattr(view, "base", view)
    try:
        n21 = national(base, "lsoa21")
        cache["icb_of"] = dict(zip(_obj(n21["lsoa21cd"]), _obj(n21["icb24cd"])))
        cache["ward_icb"] = dict(zip(_obj(n21["wd24cd"]), _obj(n21["icb24cd"])))
        lk = national(base, "lsoa11_lsoa21")
        cache["succ"] = _groups(lk["lsoa11cd"], lk["lsoa21cd"])
        from geo.footprint import icb_names
        cache["icb_names"] = icb_names(base)
    except GeoError:                       # no England tables: only the footprint's own codes
        cache.update(icb_of={}, ward_icb={}, succ={}, icb_names={})
    return cache


def _elsewhere(t: dict, icb: str | None, view) -> str:
    here = getattr(view, "name", "this ICB")
    if icb and icb == getattr(view, "code", None):
        return f"in {here} but outside the map's footprint (its 16 districts)"
    if icb:
        return f"in {t['icb_names'].get(icb, icb)}, not in {here}"
    return f"not in {here}"


def classify(view, rows, source: str = "picked") -> Parsed:
    """The LSOA 2021s of the footprint that `rows` [(row number or None, code), ...] give."""
    t = _tables(view)
    p = Parsed(source=source, rows=len(rows))
    seen: set[str] = set()
    dup = carried = 0

    def keep(codes):
        nonlocal dup
        for c in codes:
            if c in seen:
                dup += 1
            else:
                seen.add(c)
                p.lsoa21.append(c)

    for row, raw in rows:
        c = _code(raw)
        shown = c if _CODE.fullmatch(c) else (str(raw).strip()[:20] or "(blank)")
        bad = lambda why: p.problems.append(Problem(row, shown, why))  # noqa: E731
        if not _CODE.fullmatch(c):
            bad(f"'{shown}' is not a ward or LSOA code (E05... or E01...)")
        elif c.startswith("E05"):
            if c in t["by_ward"]:
                keep(t["by_ward"][c])
                p.wards.append(c)
            elif c in t["ward_names"]:
                bad(f"ward {c} ({t['ward_names'][c]}) has no LSOA 2021 best-fitted to it: nothing to add")
            elif c in t["by_ward19"]:
                keep(t["by_ward19"][c])
                p.notes.append(f"{c} read as a Dec-2019 ward (its LSOAs' 2019 ward)")
            elif c in t["ward_icb"]:
                bad(f"ward {c} is {_elsewhere(t, t['ward_icb'][c], view)}")
            else:
                bad(f"{c} is not a known ward code (May 2024 or Dec 2019)")
        elif c.startswith("E01"):
            if c in t["mine"]:
                keep([c])
            elif c in t["icb_of"]:
                bad(f"LSOA {c} is {_elsewhere(t, t['icb_of'][c], view)}")
            elif c in t["succ"]:
                new = t["succ"][c]
                ins = [x for x in new if x in t["mine"]]
                if ins:
                    keep(ins)
                    carried += 1
                    if len(ins) < len(new):
                        p.notes.append(f"LSOA 2011 {c}: {len(new) - len(ins)} of its 2021 LSOAs lie outside "
                                       f"the footprint and were left out")
                else:
                    bad(f"LSOA 2011 {c} became {', '.join(new[:3])} (2021), "
                        f"{_elsewhere(t, t['icb_of'].get(new[0]), view)}")
            else:
                bad(f"{c} is not a known LSOA code (2011 or 2021)")
        elif c[0] in "WSN" or c[:3] in ("E00", "E02"):
            bad(f"{c} is not an English LSOA or ward code (LSOA E01..., ward E05...)")
        else:
            bad(f"{c} is not a ward or LSOA code (E05... or E01...)")
    if carried:
        p.notes.append(f"{carried} LSOA 2011 code(s) carried to their 2021 LSOA(s) by the ONS 2011->2021 lookup")
    if dup:
        p.notes.append(f"{dup} LSOA(s) given more than once (directly or through a ward): counted once")
    return p


def parse_codes(view, data, source: str = "pasted list") -> Parsed:
    """Read a pasted/uploaded list (bytes or text) and classify its codes."""
    rows, fatal, notes = read_codes(data, source)
    if fatal:
        return Parsed(source=source, fatal=fatal)
    p = classify(view, rows, source)
    p.notes = notes + p.notes
    return p


def from_wards(view, wards, source: str = "picked wards") -> Parsed:
    return classify(view, [(None, w) for w in wards], source)


def make_area(view, name: str, parsed: Parsed | list[Parsed]) -> CustomArea:
    """The area of the LSOAs kept by one or more parses (GeoError when none)."""
    parts = parsed if isinstance(parsed, list) else [parsed]
    lsoas = sorted({c for p in parts for c in p.lsoa21})
    if not lsoas:
        raise GeoError("no LSOA of this ICB in the list: nothing to save")
    wards = tuple(dict.fromkeys(w for p in parts for w in p.wards))
    a = CustomArea(clean_area_name(name), view.code, view.name, tuple(lsoas), wards,
                   "; ".join(p.source for p in parts if p.source))
    l11 = tuple(sorted(set(lsoa_rows(view, a, 2019)["lsoa11cd"])))
    return replace(a, lsoa11=l11, fit_wards=tuple(area_wards(view, a)["wd24cd"]))


# ---------------------------------------------------------------- store
def _db(db):
    return db if db is not None else userdb.open_store()


def item_name(name: str, icb: str) -> str:
    return f"{icb}:{clean_area_name(name)}"


def save_area(area: CustomArea, *, created_by: str | None = None, db=None) -> userdb.Saved:
    data = json.dumps(area.document(), sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")
    meta = {"icb": area.icb, "name": area.name, "n_lsoa21": len(area.lsoa21), "n_wards": len(area.wards)}
    return _db(db).save(KIND, item_name(area.name, area.icb), data, created_by=created_by,
                        source_file=area.source[:500] or None, rows=len(area.lsoa21), meta=meta)


def saved_message(saved: userdb.Saved, name: str) -> str:
    """userdb's message for a save, naming the area (not its stored ICB-prefixed name)."""
    return saved.message.replace(f"'{saved.name}'", f"custom area '{name}'", 1)


def _check(doc, where: str) -> dict:
    if (not isinstance(doc, dict) or doc.get("format") != FORMAT
            or not all(isinstance(doc.get(k), list) for k in ("lsoa21", "lsoa11", "fit_wards"))):
        raise GeoError(f"{where} is not a custom area this version can read")
    if not all(isinstance(c, str) and _CODE.fullmatch(c) for c in doc["lsoa21"]):
        raise GeoError(f"{where} holds something that is not an LSOA code")
    return doc


def load_area(name: str, icb: str, *, version: int | None = None, db=None) -> CustomArea:
    d = _db(db)
    key = item_name(name, icb)
    v = d.version(KIND, key, version) if version is not None else d.current(KIND, key)
    if v is None:
        raise userdb.NotFound(f"no custom area named '{clean_area_name(name)}' in this ICB")
    try:
        doc = json.loads(v.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GeoError(f"custom area '{name}' version {v.version} is not readable") from None
    doc = _check(doc, f"custom area '{name}'")
    return CustomArea(doc.get("name") or name, doc.get("icb") or icb, doc.get("icb_name") or "",
                      tuple(doc["lsoa21"]), tuple(doc.get("wards") or ()), doc.get("source") or "",
                      doc.get("note") or LSOA_BUILT_NOTE, tuple(doc.get("lsoa11") or ()),
                      tuple(doc.get("fit_wards") or ()), v.version, v.created_at.isoformat(), v.created_by)


def list_areas(icb: str | None = None, *, removed: bool = False, db=None) -> list[userdb.Entry]:
    """Saved areas (of one ICB when given), by name."""
    out = [e for e in _db(db).list(KIND, removed=removed) if icb is None or e.name.startswith(f"{icb}:")]
    return sorted(out, key=lambda e: (e.name.split(":", 1)[0], area_name(e).lower()))


def area_name(entry) -> str:
    """The area's own name of a list entry (its stored name without the ICB prefix)."""
    return entry.meta.get("name") or entry.name.split(":", 1)[-1]


def names(icb: str, db=None) -> frozenset:
    return frozenset(area_name(e) for e in list_areas(icb, db=db))


def remove_area(name: str, icb: str, *, by: str | None = None, db=None) -> userdb.Entry:
    return _db(db).remove(KIND, item_name(name, icb), by=by)


def restore_area(name: str, icb: str, *, by: str | None = None, db=None) -> userdb.Entry:
    return _db(db).restore(KIND, item_name(name, icb), by=by)


# ---------------------------------------------------------------- figures
def lsoa_rows(view, area: CustomArea, vintage: int = 2025) -> pd.DataFrame:
    """The area's LSOAs of the vintage: LSOA 2021 for IoD2025; for IoD2019 the 2011
    LSOAs whose best-fit 2021 successor is in the area."""
    if vintage == 2025:
        l = view.lsoa25
        return l[l["lsoa21cd"].isin(set(area.lsoa21))]
    from geo.footprint import best_fit_links
    _, succ = best_fit_links(getattr(view, "base", view))
    l = view.lsoa
    return l[l["lsoa11cd"].map(succ).fillna(l["lsoa11cd"]).isin(set(area.lsoa21))]


def summary_row(view, area: CustomArea, vintage: int = 2025, population: str | None = None) -> pd.DataFrame:
    """One row in the columns of geo.report.build_table: the official summary measures of
    the area (population-weighted score and rank, % of LSOAs in the most deprived 10%,
    extent, local concentration, Core20), by geo.deprivation.summarise as for any place;
    plus pct_lsoas_most_deprived_20 and the LSOA-built note."""
    from geo.deprivation import summarise
    from geo.report import DEFAULT_POP, POPULATIONS, REQUIRED_COLS
    from geo.store import MEASURES
    pop_col, pop_label = POPULATIONS[population or DEFAULT_POP[vintage]]
    df = lsoa_rows(view, area, vintage)
    t = summarise(df, None, pop=pop_col, vintage=vintage, measures=tuple(MEASURES)).reset_index(drop=True)
    t.insert(0, "name", area.name)
    t.insert(0, "code", area.key)
    t["pct_lsoas_most_deprived_20"] = 100 * float((df["imd_decile"] <= 2).mean()) if len(df) else float("nan")
    t["n_wards"] = int(df["wd24cd"].nunique()) if "wd24cd" in df.columns else 0
    t["icb"] = area.icb
    t["population_basis"] = pop_label
    t["vintage"] = f"IoD{vintage}"
    t["note"] = area.note
    lead = REQUIRED_COLS + ["pct_lsoas_most_deprived_20", "n_lsoas", "n_wards", "avg_rank", "pct_decile1",
                            "decile1_population", "extent", "local_concentration"]
    lead = [c for c in lead if c in t.columns]
    return t[lead + [c for c in t.columns if c not in lead]]


def area_wards(view, area: CustomArea) -> pd.DataFrame:
    """The May-2024 wards the area's LSOA 2021s best-fit to: wd24cd, wd24nm, lad19nm,
    n_lsoas_in_area, n_lsoas_in_ward, whole_ward."""
    l = pd.DataFrame(view.lsoa25.drop(columns="geometry"))
    all_n = l.groupby("wd24cd").size()
    mine = l[l["lsoa21cd"].isin(set(area.lsoa21))]
    g = mine.groupby("wd24cd").agg(wd24nm=("wd24nm", "first"), lad19nm=("lad19nm", "first"),
                                   n_lsoas_in_area=("lsoa21cd", "size")).reset_index()
    g["n_lsoas_in_ward"] = g["wd24cd"].map(all_n).astype("int64")
    g["whole_ward"] = g["n_lsoas_in_area"] == g["n_lsoas_in_ward"]
    return g.sort_values("wd24nm").reset_index(drop=True)


REPORT_BY = ("lsoa", "ward", "place")


def report_table(view, area: CustomArea, by: str, vintage: int = 2025, population: str | None = None):
    """`geo report --area NAME`: the report's own table of the footprint cut to the area
    (--by lsoa: its LSOAs; --by ward: the wards its LSOAs best-fit to, whole-ward
    figures), or its one summary row (--by place: the area as a place)."""
    from geo.errors import UsageError
    from geo.report import build_table
    if by not in REPORT_BY:
        raise UsageError(f"--area takes --by {', '.join(REPORT_BY)} (the area's LSOAs, its wards, or its own row)")
    if by == "place":
        return summary_row(view, area, vintage, population)
    t = build_table(view, by, vintage=vintage, population=population)
    if by == "lsoa":
        col = "lsoa21cd" if vintage == 2025 else "lsoa11cd"
        keep = set(lsoa_rows(view, area, vintage)[col])
    else:
        keep = set(area_wards(view, area)["wd24cd"])
    t = t[t["code"].isin(keep)].reset_index(drop=True)
    t["custom_area"] = area.name
    return t


def frame_in_area(df: pd.DataFrame, area: CustomArea) -> pd.DataFrame:
    """Rows of an LSOA table (lsoa21cd, else lsoa11cd) or a ward table (code / wd24cd)
    that are in the area: the place filter of exports and tables for a custom area."""
    if "lsoa21cd" in df.columns:
        return df[df["lsoa21cd"].isin(set(area.lsoa21))]
    if "lsoa11cd" in df.columns:
        return df[df["lsoa11cd"].isin(set(area.lsoa11))]
    col = "wd24cd" if "wd24cd" in df.columns else "code"
    return df[df[col].isin(set(area.fit_wards))]


def saved_in_link(name: str, icb: str | None) -> CustomArea:
    """The custom area a link's area=custom:NAME names (GeoError when it is not saved)."""
    from geo.footprint import LSC_CODE
    try:
        return load_area(name, icb or LSC_CODE)
    except userdb.NotFound:
        raise GeoError(f"custom area '{clean_area_name(name)}' is not saved for this ICB "
                       f"(python -m geo areas list)") from None
