"""``tsunagu serve issuer|wallet|verifier --config FILE``: one service, for production.

Settings come from the TOML file and ``TSUNAGU_<SERVICE>_*`` environment variables (the
environment is the place for the master key in production; see docs/operations.md). Several
workers of one service may share one PostgreSQL database: run this command once per worker
behind a load balancer.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..settings import BaseServiceSettings, load_settings
from .base import EXIT_OK, InputError, Subcommands

__all__ = ["add_serve_commands", "SERVICES", "service_app", "settings_class", "service_settings"]

#: Service name → (settings module and class, app factory module).
SERVICES: dict[str, tuple[str, str, str]] = {
    "issuer": ("issuer.settings", "IssuerSettings", "issuer.app"),
    "wallet": ("wallet.settings", "WalletSettings", "wallet.app"),
    "verifier": ("verifier.settings", "VerifierSettings", "verifier.app"),
}


def settings_class(service: str) -> type[BaseServiceSettings]:
    module, name, _ = SERVICES[service]
    cls: type[BaseServiceSettings] = getattr(importlib.import_module(module), name)
    return cls


def service_app(service: str, settings: BaseServiceSettings, **kwargs: Any) -> Any:
    """The service's FastAPI app, built by its ``create_app(settings)``."""
    factory = importlib.import_module(SERVICES[service][2]).create_app
    return factory(settings, **kwargs)


def add_serve_commands(subcommands: Subcommands) -> None:
    command = subcommands.add_parser("serve", help="run one service (issuer, wallet or verifier)")
    command.add_argument("service", choices=sorted(SERVICES))
    command.add_argument("--config", type=Path, help="TOML settings file (environment variables override it)")
    command.add_argument("--host", default=None, help="interface to bind (default: the host of public_url)")
    command.add_argument("--port", type=int, default=None, help="port to bind (default: the port of public_url)")
    command.set_defaults(handler=_serve)


def service_settings(service: str, config: Path | None) -> BaseServiceSettings:
    """The service's settings from ``config`` (TOML), overridden by its environment variables.

    Raises: InputError, naming the missing file or each bad or missing setting.
    """
    if config is not None and not config.is_file():
        raise InputError(f"the settings file {str(config)!r} does not exist", path=str(config))
    try:
        return load_settings(settings_class(service), config)
    except ValueError as exc:  # pydantic's ValidationError: name each bad or missing setting
        raise InputError(f"the {service} settings are not valid: {exc}") from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = service_settings(args.service, args.config)
    parts = urlsplit(settings.public_url)
    host = args.host or parts.hostname or "127.0.0.1"
    port = args.port or parts.port or (443 if parts.scheme == "https" else 80)
    uvicorn.run(service_app(args.service, settings), host=host, port=port, proxy_headers=True, log_level="info")
    return EXIT_OK
