"""Every use of Streamlit's private internals, in one place, checked against the version
they were written for.

The rest of the app uses only Streamlit's public API (`st.*`, `streamlit.errors`,
`streamlit.config`, `streamlit.testing`) and this module (tests/app/test_private_api.py fails
on any other `streamlit.runtime` / `streamlit.web` / `streamlit.elements` ... import).
Written for Streamlit 1.67 (requirements.txt pins 1.67.0). With another version
installed, `supported()` is False, a warning says so once on stderr, and every function
here takes its public fallback (named in its doc): the app still works, without the
speed-ups that need the internals. $LSC_STRICT_PRIVATE_API=1 raises instead (CI, or
while porting to a new Streamlit), so a drift is never missed.

What the internals are used for:
- the script run context: which session a run belongs to (per-session stage timings,
  layers/timing.py), whether it is a fragment-only run (layers/parts.py), and muting what
  a block sends to the browser (the map-first run, layers/view.py);
- the session state's widget registry: which widgets the map-first run registered
  without drawing them (layers/view.py);
- the Starlette server: uvicorn's h11 request-line limit (layers/serving.py) and the
  content type of a static file.
"""
from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import sys
import threading

from layers import _version_gate as _gate

LIBRARY = "streamlit"
WRITTEN_FOR = ((1, 67), (1, 68))          # [from, to): the minor versions the code below was checked on

_LOG = logging.getLogger(__name__)
_warned = False


def _version_tuple(v: str) -> tuple[int, ...]:
    return _gate.version_tuple(v)


def installed_version() -> str:
    return _gate.installed_version(LIBRARY)


def check(version: str) -> bool:
    """True when Streamlit `version` is in WRITTEN_FOR. Otherwise it warns once (or
    raises with $LSC_STRICT_PRIVATE_API=1), and the callers fall back."""
    global _warned
    ok, _warned = _gate.check(LIBRARY, version, WRITTEN_FOR, "layers/_st_private.py",
                              "the app runs on Streamlit's public API only (no map-first page, no part-only "
                              "reruns, no long links)", _warned, _LOG)
    return ok


_SUPPORTED: bool | None = None


def supported() -> bool:
    """True when the installed Streamlit is the one this module was written for (checked
    once per process; see check)."""
    global _SUPPORTED
    if _SUPPORTED is None:
        _SUPPORTED = check(installed_version())
    return _SUPPORTED


_ok = supported


# ------------------------------------------------------------------ the script run context
def _run_ctx():
    if not _ok():
        return None
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
        return get_script_run_ctx(suppress_warning=True)
    except Exception:
        return None


def run_key() -> tuple:
    """What identifies this script run: (session id, thread). Two sessions never share
    one, and a session's full run and its parts (inline, on the run's thread) do.
    Fallback (no run context: a script, a test, another Streamlit): (None, thread)."""
    c = _run_ctx()
    return (getattr(c, "session_id", None), threading.get_ident())


def fragment_run() -> bool:
    """True while this script run is a fragment-only run. Fallback: False."""
    c = _run_ctx()
    return bool(c is not None and getattr(c, "fragment_ids_this_run", None))


def under_apptest() -> bool:
    """True when the script runs under streamlit.testing's AppTest (it builds its element
    tree from each run's own messages)."""
    return "streamlit.testing.v1.app_test" in sys.modules


def can_mute() -> bool:
    """True when `muted()` can keep a block's output from the browser."""
    c = _run_ctx()
    return c is not None and callable(getattr(c, "_enqueue", None))


@contextlib.contextmanager
def muted(active: bool = True):
    """Inside: Streamlit calls register widgets and return their values exactly as usual,
    but nothing is sent to the browser (the run context's message queue is swapped for
    a no-op). Fallback (or `active` False): everything is drawn as usual."""
    c = _run_ctx() if active else None
    if c is None or not callable(getattr(c, "_enqueue", None)):
        yield False
        return
    orig = c._enqueue
    c._enqueue = lambda msg: None
    try:
        yield True
    finally:
        c._enqueue = orig


def registered_widget_keys(value_types: set, keep_default: set) -> list[str]:
    """User keys of the widgets registered in this session whose value type is one of
    `value_types` (e.g. "bool_value") and whose value differs from their constant default,
    or whose key is in `keep_default` (drawn with a default that may change).
    Fallback (internals differ): [] (the full page then starts from the defaults)."""
    if not _ok():
        return []
    try:
        from streamlit.runtime.state import get_session_state
        state = get_session_state()._state
        meta = state._new_widget_state.widget_metadata
        out = []
        for wid, key in state._key_id_mapper.id_key_mapping.items():
            m = meta.get(wid)
            if m is None or m.value_type not in value_types:
                continue
            if key not in keep_default:
                try:   # drawn with a constant default: right unless its value differs
                    if m.deserializer(None) == state[wid]:
                        continue
                except Exception:
                    pass
            out.append(key)
        return out
    except Exception:
        return []


# ------------------------------------------------------------------ the server
def allow_long_request_lines(limit: int) -> bool:
    """Make the Starlette server's uvicorn accept request lines and headers up to `limit`
    bytes (h11's default: 16 KiB). True when active. Fallback: False (uvicorn's limit)."""
    if not _ok():
        return False
    try:
        from streamlit.web.server.starlette import starlette_server as ss
    except ImportError:
        return False
    orig = getattr(ss, "_get_uvicorn_config_kwargs", None)
    if not callable(orig):
        return False
    if getattr(orig, "_lsc_long_lines", False):
        return True

    def kwargs():
        kw = dict(orig())
        kw.setdefault("h11_max_incomplete_event_size", limit)
        return kw

    kwargs._lsc_long_lines = True
    ss._get_uvicorn_config_kwargs = kwargs
    return True


def guess_content_type(path: str) -> str:
    """The content type Streamlit's static file handler sends for `path`.
    Fallback: the standard library's guess."""
    if _ok():
        try:
            from streamlit.web.server.component_file_utils import guess_content_type as g
            return g(path)
        except Exception:
            pass
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
