"""The ward profile as an AppTest run shows it: one st.html element (layers/panels.py),
read back as its text, its tables (DataFrames of the cells' text) and its list items."""
from __future__ import annotations

import html as _html
from html.parser import HTMLParser

import pandas as pd


def profile_html(at) -> str:
    """The body of the run's ward profile element; AssertionError when none is shown."""
    found = [h.proto.body for h in at.html if 'class="lsc-profile"' in h.proto.body]
    assert found, "no ward profile shown"
    return found[-1]


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.items: list[str] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._item: list[str] | None = None
        self._h: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li":
            self._item = []
        elif tag in ("h1", "h2", "h3", "h4"):
            self._h = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None
        elif tag in ("h1", "h2", "h3", "h4") and self._h is not None:
            self.headings.append("".join(self._h).strip())
            self._h = None
        elif tag in ("p", "li", "div", "tr", "h3"):
            self.text.append("\n")

    def handle_data(self, data):
        self.text.append(data)
        for buf in (self._cell, self._item, self._h):
            if buf is not None:
                buf.append(data)


def read(body: str) -> _Reader:
    r = _Reader()
    r.feed(body)
    r.close()
    return r


def text(body: str) -> str:
    """What a person reads (tags gone, entities decoded)."""
    return "".join(read(body).text)


def tables(body: str) -> list[pd.DataFrame]:
    """Every table, header row as the columns, cells as text ("n/a" where no figure)."""
    out = []
    for rows in read(body).tables:
        if rows:
            out.append(pd.DataFrame(rows[1:], columns=rows[0]))
    return out


def items(body: str) -> list[str]:
    """The text of every list item."""
    return read(body).items


def headings(body: str) -> list[str]:
    return read(body).headings


def unescape(s: str) -> str:
    return _html.unescape(s)
