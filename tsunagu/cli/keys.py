"""``tsunagu keys generate``: a fresh private JWK, for development."""

from __future__ import annotations

import argparse
from typing import Final

from .base import (
    EXIT_OK,
    Subcommands,
    print_json,
)
from ..jwk import Algorithm, generate_key

__all__ = ["add_keys_commands"]


_KEY_ALGORITHMS: Final[tuple[Algorithm, ...]] = ("ES256", "EdDSA")


def add_keys_commands(subcommands: Subcommands) -> None:
    group = subcommands.add_parser("keys", help="developer key tools")
    commands = group.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    generate = commands.add_parser("generate", help="print a fresh PRIVATE JWK (for development)")
    generate.add_argument("--alg", choices=_KEY_ALGORITHMS, default="ES256", help="default: %(default)s")
    generate.add_argument("--kid", help="key id (default: the RFC 7638 thumbprint)")
    generate.set_defaults(handler=_keys_generate)


def _keys_generate(args: argparse.Namespace) -> int:
    alg: Algorithm = args.alg
    print_json(generate_key(alg, kid=args.kid).to_jwk(include_private=True))
    return EXIT_OK

