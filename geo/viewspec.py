"""A layer's link fields: the `Field` type and the registry of every layer's fields.

Pure data (no streamlit/folium), split from geo/viewstate.py, which re-exports every name
here and holds the generic parsing and writing that loop over the registered fields. The
built-in layers' Fields are declared in geo/viewfields.py; any layer may `register` more.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

TRIMMED_PARAM = "trimmed"       # set by trim_query_string: "<characters>.<parameters>" of the original
# ViewState's own parameters (every other one belongs to a layer's Field)
VIEW_PARAMS = ("layers", "icb", "area", "ward", "lat", "lon", "z", "present", "title")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()        # what a Field's parse returns for a value it cannot use (after a notice)


def _same(v):
    return v


@dataclass(frozen=True)
class Field:
    """One parameter of a layer's link state, declared by the layer (pure data + pure functions).

    name      the parameter in the link (never renamed: links in the wild use it)
    parse     (raw: str, p: Parse) -> value, or MISSING after p.bad()/p.note() said why;
              p.known holds what exists now (the store's wards, areas, categories...),
              p.vals every raw value of the link (a field may read a companion: `extra`)
    format    value -> the parameter's text, None to leave it out, or a dict of
              parameter -> text when the field writes companions too
    default   the value when the link does not give one (None: the layer's own default)
    key       the session widget key the value seeds (layers/share_state.py), or None when
              the layer seeds it itself (Layer.to_session)
    to_state  link value -> the widget's / the layer state dict's value (e.g. deciles
              "local" -> the checkbox's True)
    state     the name in the layer's state dict (ctx.state[layer]) the value is read back
              from when the link is written, or None when the layer does it (Layer.link_values)
    from_state  that state value -> the link value
    extra     other parameters this field reads and writes (plan: planx)
    """
    name: str
    parse: Callable[[str, "Parse"], Any]
    format: Callable[[Any], Any] = str
    default: Any = None
    key: str | None = None
    to_state: Callable[[Any], Any] = _same
    state: str | None = None
    from_state: Callable[[Any], Any] = _same
    extra: tuple = ()

    @property
    def params(self) -> tuple:
        return (self.name,) + tuple(self.extra)


_SPECS: dict[str, tuple] = {}            # layer key -> its Fields, in link order
_OWNER: dict[str, tuple] = {}            # parameter -> (layer key, Field)


def register(layer: str, fields_: Iterable[Field]) -> None:
    """Declare `layer`'s link fields (again: replaced). A parameter may belong to one layer
    only, and never shadow a view-wide one."""
    fs = tuple(fields_)
    for f in fs:
        for name in f.params:
            owner = _OWNER.get(name)
            if name in VIEW_PARAMS or name == TRIMMED_PARAM or (owner and owner[0] != layer):
                raise ValueError(f"link parameter {name!r} of layer {layer!r} is taken "
                                 f"({owner[0] if owner else 'the view'})")
    unregister(layer)
    _SPECS[layer] = fs
    for f in fs:
        for name in f.params:
            _OWNER[name] = (layer, f)


def unregister(layer: str) -> None:
    for f in _SPECS.pop(layer, ()):
        for name in f.params:
            _OWNER.pop(name, None)


def registered() -> dict[str, tuple]:
    """layer key -> its Fields (every layer that declared some)."""
    return dict(_SPECS)


def params() -> tuple:
    """Every parameter a link may have: the view-wide ones and every layer's."""
    return VIEW_PARAMS + tuple(n for fs in _SPECS.values() for f in fs for n in f.params)
