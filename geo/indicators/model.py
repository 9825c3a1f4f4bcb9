"""Results of an indicator import: the code-vintage Report and IndicatorData."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
import pandas as pd

from geo.indicators.vocab import FAMILY_LABEL, VINTAGES


# ----------------------------------------------------------------------------- results

@dataclass
class Report:
    """The code-vintage report: what matched, what did not and why."""
    file: str
    layout: str = ""
    rows_read: int = 0
    family: str | None = None
    detected: str | None = None                 # code vintage most rows match
    target: str | None = None                   # vintage of the polygons drawn
    vintage_matches: dict = field(default_factory=dict)   # vintage label -> codes matched
    matched_rows: int = 0
    matched_codes: int = 0
    n_target_areas: int = 0
    mapped: list = field(default_factory=list)      # {code, to, via}
    unmatched: list = field(default_factory=list)   # {row, code, name, reason}
    problems: list = field(default_factory=list)    # {row, column, problem}
    comparator_rows: int = 0
    skipped: dict = field(default_factory=dict)     # reason -> count
    notes: list = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)   # matched table rows by status (ok/suppressed/...)

    def problem(self, row, column, problem):
        self.problems.append({"file": self.file, "row": row, "column": column, "problem": problem})

    def unmatch(self, row, code, name, reason):
        key = (row, code)
        seen = self.__dict__.setdefault("_seen_unmatched", set())
        if key in seen:
            return
        seen.add(key)
        self.unmatched.append({"row": row, "code": code, "name": name, "reason": reason})

    def map_code(self, code, to, via):
        seen = self.__dict__.setdefault("_seen_mapped", set())
        if code in seen:
            return
        seen.add(code)
        self.mapped.append({"code": code, "to": to, "via": via})

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "file", "layout", "rows_read", "family", "detected", "target", "vintage_matches", "matched_rows",
            "matched_codes", "n_target_areas", "mapped", "unmatched", "problems", "comparator_rows", "skipped",
            "notes", "status_counts")}

    def unmatched_by_reason(self) -> dict:
        out = {}
        for u in self.unmatched:
            out.setdefault(_reason_head(u["reason"]), []).append(u)
        return out

    def text(self, max_list: int = 40) -> str:
        L = [f"{self.file}: {self.layout} layout, {self.rows_read} data rows"]
        if self.family:
            L.append(f"geography: {FAMILY_LABEL.get(self.family, self.family)} codes; "
                     f"detected vintage {VINTAGES.get(self.detected, (0, self.detected))[1]}; "
                     f"drawn on {VINTAGES.get(self.target, (0, self.target))[1]} areas")
        if self.vintage_matches:
            L.append("codes matching each vintage: " + ", ".join(f"{k} {v}" for k, v in self.vintage_matches.items()))
        L.append(f"matched: {self.matched_rows} rows, {self.matched_codes} of {self.n_target_areas} areas")
        if self.status_counts:
            L.append("values in the matched table: " + ", ".join(f"{k} {v}" for k, v in self.status_counts.items()))
        if self.comparator_rows:
            L.append(f"comparator rows (England/region/ICB): {self.comparator_rows}")
        for why, n in self.skipped.items():
            L.append(f"skipped: {n} rows — {why}")
        if self.mapped:
            L.append(f"mapped through a lookup: {len(self.mapped)} areas")
            for m in self.mapped[:max_list]:
                L.append(f"  {m['code']} -> {m['to']} ({m['via']})")
        if self.unmatched:
            L.append(f"unmatched: {len(self.unmatched)} rows")
            for u in self.unmatched[:max_list]:
                nm = f" {u['name']}" if u.get("name") else ""
                L.append(f"  row {u['row']}: {u['code']}{nm} — {u['reason']}")
            if len(self.unmatched) > max_list:
                L.append(f"  ... {len(self.unmatched) - max_list} more")
        if self.problems:
            L.append(f"problems: {len(self.problems)}")
            for p in self.problems[:max_list]:
                col = f", column '{p['column']}'" if p.get("column") else ""
                row = f", row {p['row']}" if p.get("row") is not None else ""
                L.append(f"  {p['file']}{row}{col}: {p['problem']}")
            if len(self.problems) > max_list:
                L.append(f"  ... {len(self.problems) - max_list} more")
        L.extend(f"note: {n}" for n in self.notes)
        return "\n".join(L)


def _reason_head(reason: str) -> str:
    return reason.split(":")[0].split(";")[0]


TABLE_COLUMNS = ["code", "name", "geography", "indicator", "label", "period", "value", "lower", "upper",
                 "count", "denominator", "status", "sex", "age", "source_code", "source_name", "mapped_via",
                 "note", "row"]


@dataclass
class IndicatorData:
    """One imported file: the matched long table, comparators, metadata and report."""
    table: pd.DataFrame            # TABLE_COLUMNS; status in ok|suppressed|missing|invalid
    comparators: pd.DataFrame      # indicator, period, comparator, value, how
    meta: dict                     # indicator -> {label, unit, polarity, source, ...}
    report: Report
    family: str | None = None
    target: str | None = None
    dataset: str = ""              # short name shown in pickers
    source: str = ""               # provenance line for the legend

    # Lookups are memoised per object (these objects are read-only once built and are
    # cached by the app): a rerun must not filter the long table again.
    def _memo(self) -> dict:
        m = self.__dict__.setdefault("_memo_d", {})
        if m.get("_table_id") != id(self.table):
            m.clear()
            m["_table_id"] = id(self.table)
        return m

    def indicators(self) -> list[str]:
        m = self._memo()
        if "indicators" not in m:
            m["indicators"] = list(dict.fromkeys(self.table["indicator"].tolist())) if len(self.table) else []
        return m["indicators"]

    def periods(self, indicator: str) -> list[str]:
        m = self._memo()
        if "periods" not in m:
            g = self.table.groupby("indicator", sort=False)["period"]
            m["periods"] = {k: sorted(v.dropna().unique().tolist(), key=_period_key) for k, v in g}
        return m["periods"].get(indicator, [])

    def latest_period(self, indicator: str) -> str | None:
        p = self.periods(indicator)
        return p[-1] if p else None

    def values(self, indicator: str, period: str | None = None) -> pd.DataFrame:
        """One row per area for an indicator/period (latest period by default)."""
        period = period or self.latest_period(indicator)
        memo = self._memo()
        if "groups" not in memo:
            memo["groups"] = self.table.groupby(["indicator", "period"], sort=False).indices if len(
                self.table) else {}
        m = memo.setdefault("values", {})
        key = (indicator, period)
        if key not in m:
            idx = memo["groups"].get(key)
            t = self.table.iloc[idx] if idx is not None else self.table.iloc[0:0]
            m[key] = t.drop_duplicates("code").set_index("code")
        return m[key]

    def prepare(self) -> "IndicatorData":
        """Fill the lookups for every indicator/period once (so a first switch is warm)."""
        for ind in self.indicators():
            for per in self.periods(ind):
                self.values(ind, per)
            self.comparator(ind, None, "England")
        return self

    def comparator(self, indicator: str, period: str | None, which: str) -> tuple[float | None, str]:
        """(value, description) of comparator `which` ('England', 'Region', 'ICB', 'LSC')."""
        c = self.comparators
        if c is None or not len(c):
            return None, ""
        memo = self._memo()
        if memo.get("_comp_id") != id(c):
            d = {}
            for r in c.to_dict("records"):
                per = r["period"] if isinstance(r["period"], str) else None
                d.setdefault((r["indicator"], per, r["comparator"]), (float(r["value"]), str(r.get("how", ""))))
            memo["_comp_id"], memo["comp"] = id(c), d
        d = memo["comp"]
        hit = d.get((indicator, period, which))
        if hit is None and period is not None:
            hit = d.get((indicator, None, which))
        return hit if hit is not None else (None, "")


def _period_key(p):
    s = str(p)
    nums = [int(x) for x in re.findall(r"\d{4}", s)]
    return (nums[-1] if nums else 0, nums[0] if nums else 0, s)
