"""``tsunagu status-list read``: the status of one entry of a Token Status List."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from .base import (
    DEFAULT_MAX_STATUS_LIST_BYTES,
    EXIT_INVALID,
    EXIT_OK,
    InputError,
    Subcommands,
    UsageError,
    display,
    error_json,
    non_negative_int,
    parse_time,
    positive_int,
    print_json,
    read_text,
)
from .. import jose
from ..encoding import json_loads
from ..errors import EncodingError, StatusListTokenInvalid, TsunaguError
from .sd_jwt import jwks_resolver, read_keys
from ..status_list import (
    STATUS_NAMES,
    TYP_STATUSLIST_JWT,
    StatusList,
    decode_status_list,
    verify_status_list_token,
)

__all__ = ["add_status_list_commands"]



def add_status_list_commands(subcommands: Subcommands) -> None:
    group = subcommands.add_parser("status-list", help="read Token Status Lists")
    commands = group.add_subparsers(dest="status_list_command", metavar="COMMAND", required=True)
    read = commands.add_parser(
        "read",
        help="read one entry of a status list token or a JSON status list",
        description=(
            'Input: a status list token (statuslist+jwt) or a JSON status list {"bits", "lst"}. '
            "A token's signature is checked only when --jwks is given (and then --uri too)."
        ),
    )
    read.add_argument("file", metavar="FILE", help="the status list token or JSON, or - for stdin")
    read.add_argument("--idx", type=non_negative_int, required=True, metavar="I", help="the index to read")
    read.add_argument(
        "--max-bytes",
        type=positive_int,
        default=DEFAULT_MAX_STATUS_LIST_BYTES,
        metavar="N",
        help="refuse a list that inflates to more bytes than this (default: %(default)s)",
    )
    read.add_argument(
        "--jwks", metavar="FILE", help="verify the token with this JWK Set (or issuer metadata's 'jwks'); needs --uri"
    )
    read.add_argument("--uri", help="the URI the token was fetched from: its 'sub' must equal it")
    read.add_argument("--now", type=parse_time, help="the time to check exp/ttl at (default: now)")
    read.set_defaults(handler=_status_list_read)


def _status_list_read(args: argparse.Namespace) -> int:
    if args.jwks is not None and args.uri is None:
        raise UsageError("--jwks needs --uri: a verified token must be the one for that URI (its 'sub')")
    if args.uri is not None and args.jwks is None:
        raise UsageError("--uri is checked only when the token is verified: give --jwks too")
    text = read_text(args.file, what="status list")
    verified = False
    if text.startswith("{"):
        if args.jwks is not None:
            raise UsageError("--jwks verifies a status list token, but the input is a bare JSON status list")
        try:
            document = json_loads(text)
        except EncodingError as exc:
            raise InputError(f"the status list {display(args.file)} is not JSON: {exc.reason}", path=args.file) from None
        lst = decode_status_list(document, max_bytes=args.max_bytes)
    elif args.jwks is None:
        lst = _unverified_status_list_token(text, max_bytes=args.max_bytes)
    else:
        keys = jwks_resolver(read_keys(args.jwks))
        jose.parse_compact(text, typ=TYP_STATUSLIST_JWT)  # not even a token: an input error
        now: datetime = args.now if args.now is not None else datetime.now(timezone.utc)
        try:
            lst = verify_status_list_token(
                text, key=keys, expected_sub=args.uri, now=now, max_bytes=args.max_bytes
            ).status_list
        except TsunaguError as exc:
            print_json(error_json(exc), sys.stderr)
            return EXIT_INVALID
        verified = True
    status = lst.get(args.idx)
    print_json(
        {
            "idx": args.idx,
            "status": status,
            "status_name": STATUS_NAMES.get(status, f"0x{status:02X}"),
            "bits": lst.bits,
            "size": lst.size,
            "verified": verified,
        }
    )
    return EXIT_OK


def _unverified_status_list_token(token: str, *, max_bytes: int) -> StatusList:
    """The list inside a status list token whose signature is NOT checked."""
    jws = jose.parse_compact(token, typ=TYP_STATUSLIST_JWT, max_bytes=jose.DEFAULT_MAX_JWS_BYTES + 2 * max_bytes)
    if "status_list" not in jws.payload:
        raise StatusListTokenInvalid("the status list token has no 'status_list' claim")
    return decode_status_list(jws.payload["status_list"], max_bytes=max_bytes)

