"""The standalone HTML map as text: self-contained (no remote or server URL left), the
view's data seeded into the runtime, and every user-supplied text escaped."""
from __future__ import annotations

import re

import pytest

from geo import viewstate as VS


@pytest.fixture(scope="module")
def page(store):
    from layers.export_html import standalone_html
    state, _ = VS.from_query({"measure": "health", "area": "place5:Pennine Lancashire",
                              "title": "Pennine & 'friends' (draft)"}, VS.known_from_store(store))
    notes: list[str] = []
    return standalone_html(store, state, notes=notes), state


def test_no_remote_or_server_urls_left(page):
    html, _ = page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=["\'](https?:)?//', html)
    assert not re.search(r'<script[^>]+src=', html)              # every script is inline
    assert "<link rel=\"stylesheet\"" not in html
    # static/gen files the runtime fetches are pre-seeded, so nothing is requested
    for url in set(re.findall(r"/app/static/gen/[A-Za-z0-9._-]+\.json", html)):
        assert f'"{url}":Promise.resolve(' in html, url


def test_view_and_legend_are_in_the_page(page, store):
    html, state = page
    assert "Health Deprivation and Disability: national decile" in html
    assert "Pennine Lancashire" in html
    assert "Open Government Licence" in html
    # title escaped exactly once (& and quotes as entities), never raw
    assert "Pennine &amp; &#x27;friends&#x27; (draft)" in html
    assert "Pennine & 'friends'" not in html.split("<script", 1)[0]


def test_hostile_title_never_reaches_html_raw(store):
    from layers.export_html import standalone_html
    state, notices = VS.from_query({"title": "<script>alert(1)</script><img src=x onerror=alert(2)>"},
                                   VS.known_from_store(store))
    html = standalone_html(store, state)
    assert notices and "alert(1)</script>" not in html and "<img src=x" not in html


def test_ward_profile_html_escapes(store):
    from geo.export import ward_profile
    from render.export_html import ward_profile_html
    code = store.wards24["wd24cd"].iloc[0]
    p = ward_profile(store, code, 2019)
    p["name"] = "<b onmouseover=alert(1)>X</b>"
    html = ward_profile_html(p)
    assert "<b onmouseover" not in html and "&lt;b onmouseover=alert(1)&gt;X&lt;/b&gt;" in html
    assert html.count("<tr>") >= 1 + 4       # comparison table: header + ward/place/ICB/England


@pytest.mark.parametrize("query, seeded", [({}, False), ({"vintage": "2019"}, True), ({"layers": "access"}, True)])
def test_the_2011_lsoa_file_is_inlined_only_when_the_view_draws_it(store, query, seeded):
    """The 2011 LSOAs are a geometry file of their own (render.static_files.SPLIT_OBJECTS):
    an IoD2025 page does not carry them; an IoD2019 page or the access layer (on 2011
    LSOAs) does, seeded like every other file."""
    from layers.export_html import standalone_html
    state, _ = VS.from_query(query, VS.known_from_store(store))
    html = standalone_html(store, state, notes=[])
    found = re.findall(r'"(/app/static/gen/geo11\.[0-9a-f]+\.json)":Promise\.resolve\(', html)
    assert bool(found) is seeded
    assert ("/app/static/gen/geo11." in html) is seeded          # nor named anywhere when not drawn
