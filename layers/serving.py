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
"""
from __future__ import annotations

import socket

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
