"""Serve an ASGI app over real HTTP on 127.0.0.1, for clients that run in another process (Node).

The in-process ``httpx.ASGITransport`` the other service tests use cannot reach a Node script, so
the npm interop tests run each service under uvicorn in a background thread. The port is bound
before the app is built, because a service's identifiers derive from its ``public_url``
(``{public_url}/{tenant}``) and must name the port it really listens on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

_START_TIMEOUT = 15.0


@dataclass(frozen=True)
class LiveServer:
    app: ASGIApp
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve(build_app: Callable[[str], ASGIApp], *, host: str = "127.0.0.1") -> Iterator[LiveServer]:
    """Run ``build_app(public_url)`` under uvicorn until the block ends.

    ``host`` is the name the URL uses (``localhost`` where a client checks a DNS name against it);
    the socket always listens on 127.0.0.1.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_app(f"http://{host}:{port}")
    # h11 and no websockets: nothing the tests need, and nothing that imports deprecated modules
    # (pytest runs with filterwarnings=error).
    config = uvicorn.Config(app, lifespan="on", log_level="warning", http="h11", ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {port}")
            time.sleep(0.02)
        yield LiveServer(app=app, host=host, port=port)
    finally:
        server.should_exit = True
        thread.join(_START_TIMEOUT)
        sock.close()
        # A service keeps its database engine in app.state; close its pooled connections with it.
        engine = getattr(getattr(app, "state", None), "engine", None)
        if engine is not None:
            engine.dispose()
