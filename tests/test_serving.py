"""layers.serving: accepted connections on a pre-bound, proto-0 listener (as Streamlit's
Starlette server binds it) get TCP_NODELAY once enable_tcp_nodelay() has run."""
import asyncio
import socket

import pytest

from layers import serving

def _accepted_nodelay() -> tuple[int, int]:
    """(proto, TCP_NODELAY) of a connection accepted on a socket bound like Streamlit's."""
    result = {}

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            s = transport.get_extra_info("socket")
            result["v"] = (s.proto, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main():
        lsock = socket.socket(socket.AF_INET)          # proto 0, like starlette_server._bind_socket
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        lsock.setblocking(False)
        srv = await asyncio.get_running_loop().create_server(Probe, sock=lsock)
        port = lsock.getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if "v" in result:
                break
            await asyncio.sleep(0.01)
        w.close()
        srv.close()
        await srv.wait_closed()
    asyncio.run(main())
    return result["v"]

def test_streamlit_style_listener_gets_nodelay_after_patch(monkeypatch):
    import asyncio.base_events as be
    monkeypatch.setattr(serving, "_PATCHED", False)
    monkeypatch.setattr(be, "_set_nodelay", be._set_nodelay)   # restored after the test
    proto, before = _accepted_nodelay()
    assert proto == 0
    assert before == 0, "asyncio already sets TCP_NODELAY on proto-0 sockets: the patch may be dropped"
    assert serving.enable_tcp_nodelay() is True
    assert _accepted_nodelay()[1] != 0

def test_patch_is_a_no_op_without_the_asyncio_hook(monkeypatch):
    import asyncio.base_events as be
    monkeypatch.setattr(serving, "_PATCHED", False)
    monkeypatch.delattr(be, "_set_nodelay")
    assert serving.enable_tcp_nodelay() is False

def test_serve_py_is_an_st_app_for_app_py():
    import ast
    from pathlib import Path
    src = (Path(__file__).resolve().parents[1] / "serve.py").read_text()
    tree = ast.parse(src)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "App"]
    assert calls and "app.py" in ast.unparse(calls[0].args[0])
    # the patch runs before streamlit is imported (before the server can accept)
    assert src.index("enable_tcp_nodelay()") < src.index("import streamlit")
