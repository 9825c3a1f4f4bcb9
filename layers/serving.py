"""How the app is served (used by serve.py, the `streamlit run` entry point).

TCP_NODELAY. Streamlit 1.67's Starlette server binds its listening socket itself with
`socket.socket(family)` (proto 0). Accepted sockets inherit proto 0, and asyncio turns
Nagle's algorithm off (TCP_NODELAY) only for sockets reporting proto == IPPROTO_TCP. With
Nagle on, every response on a kept-alive connection after the first waits for the
browser's delayed ACK: ~40 ms per request on Linux. A Streamlit page fetches ~100 script
chunks over 6 connections, so the page took ~0.6 s longer to start, and websocket
messages could stall the same way. Same root cause as uvicorn issue #3149.
Measured here (150 small static files, curl, one kept-alive connection): 6.57 s -> 0.18 s.

`enable_tcp_nodelay()` makes asyncio set TCP_NODELAY on every accepted TCP stream socket
whatever its proto says. It must run before the server accepts connections (serve.py
imports this module first). If asyncio's internals differ, it does nothing and says so.

Links at the edges. A request line above h11's 16 KiB buffer got a bare "400 Bad
Request" from uvicorn before the app saw it, and Streamlit drops a query string of more
than 1,000 parameters without a word (the view silently reset). `allow_long_request_lines`
raises h11's buffer to 1 MiB and `LinkLimits` (ASGI middleware, serve.py) answers an
oversized or over-parameterised link with a redirect to its valid part
(geo.viewstate.trim_query_string): the map opens with what it understood and a notice.
"""
from __future__ import annotations

import socket
from urllib.parse import quote

_PATCHED = False


def _set_nodelay_any_proto(sock) -> None:
    if sock.family in {socket.AF_INET, socket.AF_INET6} and sock.type == socket.SOCK_STREAM:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def enable_tcp_nodelay() -> bool:
    """Patch asyncio so accepted TCP connections get TCP_NODELAY. True when active."""
    global _PATCHED
    import asyncio.base_events as be
    if _PATCHED:
        return True
    if not callable(getattr(be, "_set_nodelay", None)):
        return False
    be._set_nodelay = _set_nodelay_any_proto
    _PATCHED = True
    return True


MAX_REQUEST_LINE = 1 << 20      # bytes h11 buffers for a request line + headers
_SKIP_PREFIXES = ("/_stcore", "/app/static", "/static", "/component", "/media")


def allow_long_request_lines(limit: int = MAX_REQUEST_LINE) -> bool:
    """Make uvicorn's h11 parser accept request lines up to `limit` bytes (default 16 KiB),
    so a long link reaches LinkLimits instead of failing with a bare 400. True when active
    (Streamlit's server internals: layers/_st_private.py)."""
    from layers import _st_private
    return _st_private.allow_long_request_lines(limit)


class LinkLimits:
    """ASGI middleware: a page request whose query string is too long or has too many
    parameters (geo.viewstate.needs_trim) is redirected (303) to its valid part."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD"):
            qs = scope.get("query_string") or b""
            path = scope.get("path") or "/"
            if qs and not path.startswith(_SKIP_PREFIXES):
                from geo import viewstate as VS
                if VS.needs_trim(qs):
                    loc = (scope.get("root_path") or "") + quote(path) + "?" + VS.trim_query_string(qs.decode("latin-1"))
                    await send({"type": "http.response.start", "status": 303,
                                "headers": [(b"location", loc.encode("ascii", "replace")), (b"content-length", b"0"),
                                            (b"cache-control", b"no-store")]})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ precompressed static files
STATIC_PREFIX = "/app/static/"


def _accepts_gzip(headers) -> bool:
    for k, v in headers or ():
        if k.lower() == b"accept-encoding":
            for part in v.decode("latin-1").split(","):
                name, _, params = part.strip().partition(";")
                if name.strip().lower() in ("gzip", "*"):
                    q = params.strip().lower()
                    try:
                        return not (q.startswith("q=") and float(q[2:]) == 0.0)
                    except ValueError:
                        return False
    return False


class PrecompressedStatic:
    """ASGI middleware: a GET/HEAD of /app/static/<file> that has a `<file>.gz` beside it
    (render.static_files writes one for each large generated file) and whose request
    accepts gzip gets the .gz bytes as they are, with Content-Encoding: gzip.

    Streamlit's own GZip middleware would otherwise compress the file again on every
    request, on the server's event loop (England's 14 MB geometry: ~1 s of CPU per
    browser session, while the websocket waits). The .gz must be at least as new as the
    file (written after it); anything else (no .gz, a path outside static/, a client
    that does not accept gzip) goes to Streamlit unchanged."""

    def __init__(self, app, static_dir=None, base_url: str | None = None):
        self.app = app
        self._static_dir = static_dir
        self._base = base_url

    def _root(self):
        import os
        if self._static_dir is None:
            from render.static_files import STATIC_DIR
            self._static_dir = STATIC_DIR
        return os.path.realpath(self._static_dir)

    def _prefix(self) -> str:
        if self._base is None:
            try:
                from streamlit import config
                self._base = (config.get_option("server.baseUrlPath") or "").strip("/")
            except Exception:
                self._base = ""
        return (f"/{self._base}" if self._base else "") + STATIC_PREFIX

    def _gz_for(self, path: str):
        """The .gz beside the static file behind `path`, or None."""
        import os
        from urllib.parse import unquote
        prefix = self._prefix()
        if not path.startswith(prefix):
            return None
        root = self._root()
        f = os.path.realpath(os.path.join(root, unquote(path[len(prefix):])))
        if os.path.commonpath([root, f]) != root:
            return None
        try:
            ok = os.path.isfile(f) and os.stat(f + ".gz").st_size > 0
        except OSError:
            return None
        return (f, f + ".gz") if ok else None

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD") \
                and _accepts_gzip(scope.get("headers")):
            try:
                hit = self._gz_for(scope.get("path") or "")
            except Exception:           # never a 500 for a static file: let Streamlit serve it
                hit = None
            if hit is not None:
                from starlette.responses import FileResponse

                from layers._st_private import guess_content_type
                resp = FileResponse(hit[1], media_type=guess_content_type(hit[0]),
                                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding",
                                             "Access-Control-Allow-Origin": "*",
                                             "X-Content-Type-Options": "nosniff"})
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)
