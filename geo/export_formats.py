"""The file formats of geo.export: a table with its header block as CSV or XLSX bytes,
and the QGIS default styles (QML) a GeoPackage export carries in its layer_styles table.

Every text cell goes through geo.csvsafe (formula injection). geo.export re-exports
these names (csv_bytes, xlsx_bytes, header_line, qml_categorised, qml_single).
"""
from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from geo.csvsafe import neutralise_cell, neutralise_frame


# ---------------------------------------------------------------- CSV / XLSX
def header_line(label: str, text: str) -> str:
    """One '# label: text' metadata line: never quoted (a quoted line is not a comment to
    pandas' read_csv(comment="#")), no delimiter or line break inside it (each line stays
    one cell in Excel), and starting with '#' it is never a formula."""
    import re
    line = re.sub(r"(?<=\d),(?=\d{3}\b)", "", f"# {label}: {text}")       # 1,000 -> 1000
    return " ".join(line.replace(",", ";").replace('"', "'").split())


def csv_bytes(rows: pd.DataFrame, header: list[tuple[str, str]]) -> bytes:
    """UTF-8 (BOM) CSV that opens cleanly everywhere: metadata lines '# label: text'
    (unquoted; pandas: read_csv(path, comment="#"); QGIS: discard the first N lines, N
    stated in the first line), a blank line, then the table with every text cell quoted
    (so a '#' inside a cell is data, not a comment) and formula-like text neutralised."""
    n = len(header) + 2                  # + this line + the blank line before the table
    lines = [header_line("Metadata", f"{n} lines before the table header (QGIS: number of header lines "
                                     f"to discard = {n}; pandas: comment='#')")]
    lines += [header_line(label, text) for label, text in header]
    buf = io.StringIO()
    buf.write("\n".join(lines) + "\n\n")
    neutralise_frame(rows.round(6)).to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    return buf.getvalue().encode("utf-8-sig")


def _xl_value(v):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if not np.isfinite(f) else f
    if isinstance(v, (int,)):
        return v
    if pd.isna(v) if not isinstance(v, (list, tuple, dict)) else False:
        return None
    return neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", str(v)))


def xlsx_bytes(rows: pd.DataFrame, header: list[tuple[str, str]], sheet: str = "Wards") -> bytes:
    """One sheet: header block (label | text), a blank row, then the table (frozen header,
    autofilter). Every text cell is neutralised, so nothing is ever stored as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    bold = Font(bold=True)
    for label, text in header:
        ws.append([_xl_value(label), _xl_value(text)])
        ws.cell(row=ws.max_row, column=1).font = bold
    ws.append([])                       # a blank row (openpyxl's max_row does not count it)
    top = len(header) + 2               # the table's header row
    ws.append([_xl_value(str(c)) for c in rows.columns])
    for c in range(1, len(rows.columns) + 1):
        ws.cell(row=top, column=c).font = bold
    data = rows.round(6)
    for rec in data.itertuples(index=False, name=None):
        ws.append([_xl_value(v) for v in rec])
    # every text cell is a string, never a formula
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(rows.columns))}{ws.max_row}"
    ws.column_dimensions["A"].width = 18
    for i, c in enumerate(rows.columns, start=1):
        if i > 1:
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(c)) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- GeoPackage
def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _fill_symbol(name: str, fill: str | None, outline: str, width: float, alpha: float = 1.0,
                 dash: bool = False) -> str:
    style = "solid" if fill else "no"
    return (f'<symbol type="fill" name="{name}" alpha="{alpha}" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
            f'<Option name="color" type="QString" value="{_rgba(fill or "#ffffff", 255 if fill else 0)}"/>'
            f'<Option name="style" type="QString" value="{style}"/>'
            f'<Option name="outline_color" type="QString" value="{_rgba(outline)}"/>'
            f'<Option name="outline_style" type="QString" value="{"dash" if dash else "solid"}"/>'
            f'<Option name="outline_width" type="QString" value="{width}"/>'
            f'<Option name="outline_width_unit" type="QString" value="MM"/>'
            f'</Option></layer></symbol>')


def _qml(renderer: str) -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>')


def qml_categorised(attr: str, cats: list[tuple], alpha: float = 0.85) -> str:
    """cats: (value, label, fill, outline, width, dash)."""
    from html import escape
    c_xml = "".join(f'<category value="{escape(str(v))}" symbol="{i}" label="{escape(lbl)}" render="true"/>'
                    for i, (v, lbl, *_rest) in enumerate(cats))
    s_xml = "".join(_fill_symbol(str(i), f, o, w, alpha, d) for i, (_v, _l, f, o, w, d) in enumerate(cats))
    return _qml(f'<renderer-v2 type="categorizedSymbol" attr="{escape(attr)}" symbollevels="0" '
                f'enableorderby="0" forceraster="0"><categories>{c_xml}</categories>'
                f'<symbols>{s_xml}</symbols></renderer-v2>')


def qml_single(outline: str, width: float, fill: str | None = None, dash: bool = False) -> str:
    return _qml('<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
                f'<symbols>{_fill_symbol("0", fill, outline, width, 1.0, dash)}</symbols></renderer-v2>')


def _add_styles(path: Path, styles: dict[str, tuple[str, str]]) -> None:
    """Write QGIS's layer_styles table (QGIS applies the default style when a layer is opened)."""
    con = sqlite3.connect(path)
    try:
        geomcol = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        con.execute("""CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
            f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
            styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
            update_time DATETIME DEFAULT CURRENT_TIMESTAMP)""")
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                    "'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
        for table, (name, qml) in styles.items():
            if table in geomcol:
                con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                            "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                            (table, geomcol[table], name, qml, name))
        con.commit()
    finally:
        con.close()
