"""A Streamlit session without a browser: the app's own websocket protocol, for load tests.

    async with StreamlitSession("http://localhost:8501") as s:
        page = await s.load()                        # the first run, as a browser's first visit
        r = await s.select("Area", "District: Burnley")   # a click: one widget-state rerun
        r.seconds, r.status, r.exceptions, r.texts()

What a browser does, minus the rendering: connect to `/_stcore/stream` (subprotocol
"streamlit"), send `BackMsg.rerun_script` with a `ClientState` (the page's query string and
the widget states it holds), read `ForwardMsg`s until `script_finished`. The widgets are
found in the run's deltas (`Delta.new_element.<selectbox|checkbox|radio|button|
component_instance>`): their ids (the server's own, e.g. `$$ID-...-area`), labels, options
and the fragment they belong to (`Delta.fragment_id`), so a click inside an st.fragment
reruns only that fragment, as the browser's would. Values are sent as the frontend sends
them: selectbox/radio the option's label (`string_value`), checkbox `bool_value`, button
`trigger_value`, a custom component `json_value` (JSON text). Like the browser, every value
set so far is re-sent on each rerun; a button's trigger only once. The query string the
server writes (`page_info_changed`, st.query_params) is sent back as the browser's URL would.

A `Run` is one rerun as the client sees it, timed from sending the BackMsg until the
server's `script_finished` (FINISHED_SUCCESSFULLY or FINISHED_FRAGMENT_RUN_SUCCESSFULLY;
a run that ends FINISHED_EARLY_FOR_RERUN, e.g. st.rerun() in a callback, is followed to the
run that replaces it). Its `exceptions` are the `exception` elements the server sent (what
Streamlit draws as a red traceback box) and a compile error; `alerts` the st.error boxes.
`RunTimeout` is raised when no `script_finished` came within `timeout` seconds; the
websocket library's `ConnectionClosed` when the server dropped the connection.

No pixels are drawn and no component JavaScript runs, so a custom component's value (a map
click) is sent with `set_component`. `ForwardMsg` caching is not claimed (no
`cached_message_hashes`): the server sends every message in full, as to a fresh browser.
The websocket offers permessage-deflate, as browsers do (so the server compresses).
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

WIDGET_KINDS = ("selectbox", "checkbox", "radio", "button", "component_instance", "multiselect",
                "text_input", "number_input", "slider", "download_button")
_DONE = {"FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY", "FINISHED_WITH_COMPILE_ERROR"}
_STATUS = ForwardMsg.ScriptFinishedStatus.Name


class RunTimeout(TimeoutError):
    """No script_finished within the session's timeout (`t0`: when the rerun was sent;
    `StreamlitSession.finish` can wait on for it)."""

    def __init__(self, msg: str, t0: float = 0.0):
        super().__init__(msg)
        self.t0 = t0


@dataclass
class Widget:
    id: str
    kind: str            # Element field name: "selectbox", "checkbox", ...
    label: str           # the label (a component: its component_name)
    options: list[str]
    fragment_id: str     # "" outside any st.fragment


@dataclass
class Run:
    """One rerun: its time, how it ended and what the server sent during it."""
    seconds: float
    status: str
    elements: list[tuple[tuple[int, ...], str, str]] = field(default_factory=list)  # (path, kind, text)
    exceptions: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0
    widgets: dict = field(default_factory=dict)     # id -> Widget drawn in this run
    fragments: set = field(default_factory=set)     # ids of the st.fragments this run redrew

    def texts(self, kind: str | None = None) -> list[str]:
        return [t for _, k, t in self.elements if t and (kind is None or k == kind)]

    def has_text(self, needle: str) -> bool:
        return any(needle in t for _, _, t in self.elements)


def _element_text(kind: str, el) -> str:
    if kind in ("markdown", "heading", "alert", "text", "code", "html"):
        return getattr(el, "body", "") or ""
    if kind == "exception":
        return f"{el.type}: {el.message}"
    if kind == "component_instance":
        return el.component_name
    return getattr(el, "label", "") if hasattr(el, "label") else ""


class StreamlitSession:
    """One person's session over Streamlit's websocket. An async context manager."""

    def __init__(self, base_url: str, timeout: float = 30.0, query_string: str = "",
                 max_size: int = 256 * 2**20):
        u = urlparse(base_url)
        self.ws_url = f"ws://{u.hostname}:{u.port}{u.path.rstrip('/')}/_stcore/stream"
        self.origin = f"{u.scheme}://{u.netloc}"
        self.timeout, self.query_string, self.max_size = timeout, query_string, max_size
        self.widgets: dict[str, Widget] = {}       # id -> widget, as last sent by the server
        self.states: dict[str, WidgetState] = {}   # id -> the value this client holds
        self.auto_reruns: list[tuple[float, str]] = []   # (interval, fragment_id) asked for
        self.ws = None

    async def __aenter__(self):
        await self.connect()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], origin=self.origin,
                                           max_size=self.max_size, open_timeout=max(self.timeout, 30.0))
        self.widgets.clear()
        self.states.clear()

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:
                pass
            self.ws = None

    # ------------------------------------------------------------------ a rerun
    async def rerun(self, change: WidgetState | None = None, fragment_id: str = "") -> Run:
        """Send the held widget states (with `change` applied) and wait for the run to end."""
        trigger = None
        if change is not None:
            if change.WhichOneof("value") in ("trigger_value", "string_trigger_value", "json_trigger_value"):
                trigger = change
            else:
                self.states[change.id] = change
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = ""
        cs.fragment_id = fragment_id
        cs.context_info.timezone = "Europe/London"
        cs.context_info.locale = "en-GB"
        cs.context_info.url = f"{self.origin}/"
        for st_ in self.states.values():
            cs.widget_states.widgets.append(st_)
        if trigger is not None:
            cs.widget_states.widgets.append(trigger)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        return await self._until_finished(t0)

    async def finish(self, t0: float, wait: float) -> Run:
        """After a RunTimeout: wait up to `wait` s more for that run to end (its `seconds`
        then count from `t0`, when it was sent)."""
        return await self._until_finished(t0, deadline=time.perf_counter() + wait)

    async def _until_finished(self, t0: float, deadline: float | None = None) -> Run:
        run = Run(seconds=0.0, status="")
        deadline = t0 + self.timeout if deadline is None else deadline
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RunTimeout(f"no script_finished after {time.perf_counter() - t0:.0f} s", t0)
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                raise RunTimeout(f"no script_finished after {time.perf_counter() - t0:.0f} s", t0) from None
            if isinstance(data, str):
                continue
            run.messages += 1
            run.bytes += len(data)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            typ = fm.WhichOneof("type")
            if typ == "delta":
                self._on_delta(fm, run)
            elif typ == "page_info_changed":
                self.query_string = fm.page_info_changed.query_string
            elif typ == "auto_rerun":
                self.auto_reruns.append((fm.auto_rerun.interval, fm.auto_rerun.fragment_id))
            elif typ == "session_event" and fm.session_event.HasField("script_compilation_exception"):
                e = fm.session_event.script_compilation_exception
                run.exceptions.append(f"compile error: {e.type}: {e.message}")
            elif typ == "script_finished":
                run.status = _STATUS(fm.script_finished)
                if run.status == "FINISHED_EARLY_FOR_RERUN":
                    run.widgets, run.fragments = {}, set()   # the run that replaces it draws again
                elif run.status in _DONE:
                    run.seconds = time.perf_counter() - t0
                    self._on_finished(run)
                    return run

    def _on_finished(self, run: Run) -> None:
        """As the frontend does at the end of a run: the widgets are those it drew (a
        fragment run redraws only its own); the values of widgets gone are forgotten."""
        if run.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY":
            # a fragment that ran drew all of its widgets again: the ones it no longer
            # draws (e.g. Close ward profile, once closed) are gone, as in the browser
            self.widgets = {k: w for k, w in self.widgets.items() if w.fragment_id not in run.fragments}
            self.widgets.update(run.widgets)
        elif run.status == "FINISHED_SUCCESSFULLY":
            self.widgets = dict(run.widgets)
        self.states = {k: v for k, v in self.states.items() if k in self.widgets}

    def _on_delta(self, fm: ForwardMsg, run: Run) -> None:
        d = fm.delta
        if d.fragment_id:
            run.fragments.add(d.fragment_id)
        if d.WhichOneof("type") != "new_element":
            return
        el = d.new_element
        kind = el.WhichOneof("type")
        if kind is None:
            return
        body = getattr(el, kind)
        path = tuple(fm.metadata.delta_path)
        run.elements.append((path, kind, _element_text(kind, body)))
        if kind == "exception" and not body.is_warning:
            run.exceptions.append(_element_text(kind, body))
        elif kind == "alert" and body.format == body.ERROR:
            run.alerts.append(body.body)
        if kind in WIDGET_KINDS and getattr(body, "id", ""):
            label = body.component_name if kind == "component_instance" else body.label
            run.widgets[body.id] = Widget(id=body.id, kind=kind, label=label,
                                           options=list(getattr(body, "options", []) or []),
                                           fragment_id=d.fragment_id)

    # ------------------------------------------------------------------ clicks
    async def load(self) -> Run:
        """The first visit's run (the browser sends it once the websocket is open)."""
        return await self.rerun()

    def widget(self, label: str, kind: str | None = None) -> Widget:
        """The widget last drawn with this label (a component: its component_name)."""
        found = [w for w in self.widgets.values() if w.label == label and (kind is None or w.kind == kind)]
        if not found:
            have = sorted({f"{w.kind}:{w.label}" for w in self.widgets.values()})
            raise LookupError(f"no widget {label!r} on the page (have: {', '.join(have)[:400]})")
        return found[-1]

    async def select(self, label: str, option: str) -> Run:
        """Choose `option` (its shown label) in the selectbox or radio labelled `label`."""
        w = self.widget(label)
        if w.kind not in ("selectbox", "radio"):
            raise LookupError(f"{label!r} is a {w.kind}, not a selectbox/radio")
        if w.options and option not in w.options:
            raise LookupError(f"{option!r} is not an option of {label!r}")
        return await self.rerun(WidgetState(id=w.id, string_value=option), w.fragment_id)

    async def check(self, label: str, value: bool) -> Run:
        w = self.widget(label, "checkbox")
        return await self.rerun(WidgetState(id=w.id, bool_value=bool(value)), w.fragment_id)

    async def press(self, label: str) -> Run:
        w = self.widget(label, "button")
        return await self.rerun(WidgetState(id=w.id, trigger_value=True), w.fragment_id)

    async def set_component(self, name: str, value: Any) -> Run:
        """What a custom component's Streamlit.setComponentValue(value) sends."""
        w = self.widget(name, "component_instance")
        return await self.rerun(WidgetState(id=w.id, json_value=json.dumps(value)), w.fragment_id)
