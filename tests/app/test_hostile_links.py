"""Links at the edges (issue #13 item 6), through the real server (`streamlit run
serve.py`): a 100 KB link or one with more than 1,000 parameters is redirected to its
valid part (known parameters + a `trimmed` marker the page turns into a notice) instead
of a bare HTTP 400 or Streamlit silently dropping the whole query string."""
from __future__ import annotations

import http.client
from urllib.parse import parse_qs, urlsplit

import pytest

from geo import viewstate as VS
from tests.e2e.harness import Server


def _get(port: int, target: str) -> tuple[int, dict, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


@pytest.fixture(scope="module")
def server(store):
    with Server("app.py", timeout=240) as s:
        yield s


def test_a_100kb_link_gets_its_valid_part(server):
    target = "/?measure=income&core20=0&junk=" + "x" * 100_000
    status, headers, _ = _get(server.port, target)
    assert status == 303, status
    loc = headers["location"]
    q = parse_qs(urlsplit(loc).query)
    assert q["measure"] == ["income"] and q["core20"] == ["0"] and "junk" not in q
    assert q[VS.TRIMMED_PARAM][0].startswith(f"{len(target) - 2}.")
    status, _, body = _get(server.port, loc)
    assert status == 200 and b"<html" in body.lower()


def test_more_than_1000_parameters_keep_the_known_ones(server):
    junk = "&".join(f"p{i}=1" for i in range(1500))
    status, headers, _ = _get(server.port, f"/?{junk}&vintage=2025&measure=health")
    assert status == 303
    q = parse_qs(urlsplit(headers["location"]).query)
    assert q["vintage"] == ["2025"] and q["measure"] == ["health"]
    assert q[VS.TRIMMED_PARAM][0].endswith(".1502")
    assert len(headers["location"]) < VS.MAX_QUERY_CHARS


def test_ordinary_links_and_assets_pass_through(server):
    status, _, _ = _get(server.port, "/?measure=income&layers=deprivation,wards")
    assert status == 200
    status, _, _ = _get(server.port, "/_stcore/health?" + "a=1&" * 300)
    assert status == 200


def test_trim_keeps_last_value_and_drops_long_values():
    qs = "measure=crime&measure=income&title=" + "t" * 500 + "&" + "&".join(f"z{i}=" for i in range(300))
    q = parse_qs(VS.trim_query_string(qs), keep_blank_values=True)
    assert q["measure"] == ["income"] and "title" not in q and VS.needs_trim(qs)
    state, notices = VS.from_query({k: v[-1] for k, v in q.items()})
    assert state.get("measure") == "income"
    assert any("too long" in str(n) for n in notices)
