"""``tsunagu demo``: the three services on localhost with demo data, and the story told in the terminal.

The README's first command. It generates a fresh deployment in ``--data-dir`` (keys, certificates,
the signed trust registry, each service's settings and ``demo.json`` with every URL, API key and
login), serves the issuer on ``--base-port``, the wallet on the next port and the verifier on the one
after, runs the story of :mod:`tsunagu.cli.demo_story`, and keeps serving until Ctrl-C so a person
can continue in each service's ``/docs``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import socket
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from .base import EXIT_OK, InputError, Subcommands

if TYPE_CHECKING:
    from .demo_deployment import DemoDeployment

__all__ = ["add_demo_command", "run_demo", "DEFAULT_BASE_PORT"]

SERVICES = ("issuer", "wallet", "verifier")
DEFAULT_BASE_PORT = 8001


def add_demo_command(subcommands: Subcommands) -> None:
    command = subcommands.add_parser(
        "demo", help="run the issuer, wallet and verifier on localhost with demo data, and tell the story"
    )
    command.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="issuer port; wallet +1, verifier +2")
    command.add_argument("--data-dir", type=Path, default=Path("demo-data"), help="where the demo keeps its files")
    command.add_argument("--once", action="store_true", help="stop after the story instead of serving until Ctrl-C")
    command.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    return run_demo(args.data_dir, base_port=args.base_port, once=args.once)


def run_demo(data_dir: Path, *, base_port: int = DEFAULT_BASE_PORT, once: bool = False) -> int:
    # The services are imported only when the demo runs, so `tsunagu sd-jwt ...` stays quick.
    from .demo_deployment import build_demo_deployment

    for offset, name in enumerate(SERVICES):
        _check_port_free(base_port + offset, name)
    _clear_previous_run(data_dir)
    deployment = build_demo_deployment(data_dir, now=datetime.now(timezone.utc), base_port=base_port)
    _say("Tsunagu demo", f"A fresh deployment is in {data_dir.resolve()}/ (demo.json has every URL, API key and login).")
    return asyncio.run(_serve_and_tell(deployment, once=once))


async def _serve_and_tell(deployment: DemoDeployment, *, once: bool) -> int:
    import httpx
    import uvicorn

    from .demo_story import Story, StoryFailed
    from .serve import service_app

    servers = []
    for name in SERVICES:
        settings = getattr(deployment, name)
        port = int(settings.public_url.rsplit(":", 1)[1])
        config = uvicorn.Config(service_app(name, settings), host="127.0.0.1", port=port, log_level="warning")
        servers.append(_QuietServer(config))
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                raise InputError("a service failed to start; see the messages above")
            await asyncio.sleep(0.05)
        _say("Services", "\n".join(f"{name:>8}: {getattr(deployment, name).public_url}/docs" for name in SERVICES))
        clients = {
            name: httpx.AsyncClient(base_url=getattr(deployment, name).public_url, timeout=30) for name in SERVICES
        }
        try:
            story = Story(deployment, clients["issuer"], clients["wallet"], clients["verifier"], narrate=_say)
            await story.run()
        except StoryFailed as exc:
            _say("The story stopped", str(exc))
            return 1
        finally:
            for client in clients.values():
                await client.aclose()
        if not once:
            _say(
                "Keep going",
                "The services keep running: open the /docs pages above and use the API keys and the login in "
                f"{deployment.data_dir / 'demo.json'}. Press Ctrl-C to stop.",
            )
            await stop.wait()
        return EXIT_OK
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


class _QuietServer:
    """A uvicorn server that leaves Ctrl-C to the demo, which stops all three together."""

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self._server = Server(config)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def should_exit(self) -> bool:
        return bool(self._server.should_exit)

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._server.should_exit = value

    async def serve(self) -> None:
        await self._server.serve()


def _check_port_free(port: int, name: str) -> None:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise InputError(
                f"port {port} (the {name}) is in use: stop what runs there or pick other ports with --base-port"
            ) from None


def _clear_previous_run(data_dir: Path) -> None:
    """Each demo starts from nothing: databases of an earlier run would hold credentials signed by old keys."""
    if not data_dir.exists():
        return
    if not (data_dir / "demo.json").exists() and any(data_dir.iterdir()):
        raise InputError(f"{data_dir} exists and is not a demo directory; choose another --data-dir")
    shutil.rmtree(data_dir)


def _say(title: str, text: str) -> None:
    print(f"\n== {title}\n{textwrap.indent(text, '  ') if not text.startswith('  ') else text}", flush=True)
    sys.stdout.flush()
