"""The ``tsunagu`` command: a thin presentation layer over the core and the services' admin APIs.

Command groups register themselves: each is one ``add_*_commands(subcommands)`` function listed
in :data:`COMMAND_GROUPS`, and each command sets its handler with ``set_defaults(handler=...)``.
See :mod:`tsunagu.cli.base` for the output and exit-code conventions.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Sequence
from importlib import metadata

from ..errors import TsunaguError
from .base import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, CliError, Handler, InputError, Parser, Subcommands, UsageError, error_json, print_json
from .admin import add_issuer_commands, add_verifier_commands
from .demo import add_demo_command
from .keys import add_keys_commands
from .schema import add_schema_commands
from .serve import add_serve_commands
from .sd_jwt import add_sd_jwt_commands
from .status_list import add_status_list_commands

__all__ = ["COMMAND_GROUPS", "CliError", "UsageError", "InputError", "build_parser", "main"]

COMMAND_GROUPS: list[Callable[[Subcommands], None]] = [
    add_demo_command,
    add_serve_commands,
    add_issuer_commands,
    add_verifier_commands,
    add_sd_jwt_commands,
    add_status_list_commands,
    add_keys_commands,
    add_schema_commands,
]


def _version() -> str:
    try:
        return metadata.version("tsunagu")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tsunagu",
        description="Tsunagu: SD-JWT VC issuance, holding and verification. Output is JSON.",
        epilog="Exit status: 0 ok, 1 verified invalid, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"tsunagu {_version()}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_commands in COMMAND_GROUPS:
        add_commands(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script passes it to ``sys.exit``)."""
    if argv is None:
        _utf8_stdio()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except TsunaguError as exc:
        # Verification verdicts are printed by their command; what reaches here is bad input.
        print_json(error_json(exc), sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the CLI's "500 handler": a bug, but never a traceback
        print_json(
            {"code": "cli.internal_error", "reason": f"unexpected {type(exc).__name__}: {exc} (this is a bug)"},
            sys.stderr,
        )
        return EXIT_INTERNAL


def _utf8_stdio() -> None:
    """JSON output is UTF-8 whatever the locale says (Japanese names must not crash a C locale)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")


