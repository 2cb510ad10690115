"""The ``tsunagu`` command: a thin presentation layer over the core, for people and scripts.

Every command prints JSON (UTF-8, indented) on stdout. Failures print ``{"code", "reason"}`` on
stderr, with the core's own error codes. Exit status: 0 success; 1 a verification that ran and
said "invalid"; 2 a usage or input error (unreadable file, not an SD-JWT, bad JWKS, bad flags).

Command groups register themselves: each is one ``add_*_commands(subcommands)`` function listed
in :data:`COMMAND_GROUPS`, and each command sets its handler with ``set_defaults(handler=...)``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from importlib import metadata
from typing import IO, Any, Final, NoReturn, TypeAlias

from . import jose
from .encoding import b64url_decode, json_loads
from .errors import (
    EncodingError,
    InvalidIssuerMetadata,
    IssuerKeyNotFound,
    JwkError,
    SdJwtError,
    StatusListTokenInvalid,
    TsunaguError,
)
from .jwk import Algorithm, PublicJwk, generate_key, parse_jwks
from .kb_jwt import KbExpectation
from .sd_jwt.compact import DEFAULT_MAX_SD_JWT_BYTES, SdJwt, parse_sd_jwt
from .sd_jwt.holder import decode_sd_jwt
from .sd_jwt.verifier import IssuerKeyResolver, VerifyPolicy, verify_sd_jwt
from .sd_jwt_vc import (
    LEGACY_TYP_VC_SD_JWT,
    TYP_DC_SD_JWT,
    issuer_key_resolver,
    parse_issuer_metadata,
    verify_sd_jwt_vc,
)
from .status_list import (
    STATUS_NAMES,
    TYP_STATUSLIST_JWT,
    StatusList,
    decode_status_list,
    verify_status_list_token,
)

__all__ = ["COMMAND_GROUPS", "CliError", "UsageError", "InputError", "build_parser", "main"]

Subcommands: TypeAlias = "argparse._SubParsersAction[_Parser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_USAGE: Final = 2
#: An exception the core should have typed: a bug, reported as JSON rather than a traceback.
EXIT_INTERNAL: Final = 70

#: Default bound on a decompressed status list (1 MiB: 8 million one-bit entries).
DEFAULT_MAX_STATUS_LIST_BYTES: Final = 1 << 20

#: Input files larger than this are refused before they are read in full (16 MiB).
MAX_INPUT_BYTES: Final = 16 << 20


class CliError(TsunaguError):
    code = "cli.error"


class UsageError(CliError):
    """Flags that do not make sense together, or that argparse rejected."""

    code = "cli.usage"


class InputError(CliError):
    """A file that cannot be read, or whose content is not what the command takes."""

    code = "cli.invalid_input"


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as :class:`UsageError` so they come out as JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


# --- output ------------------------------------------------------------------------------------


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _print_json(value: object, stream: IO[str] | None = None) -> None:
    print(_dumps(value), file=stream if stream is not None else sys.stdout)


def _error_json(error: TsunaguError) -> dict[str, str]:
    return {"code": error.code, "reason": error.reason}


# --- input -------------------------------------------------------------------------------------


def _display(source: str) -> str:
    return "stdin" if source == "-" else repr(source)


def _read_bytes(source: str, *, what: str) -> bytes:
    """The content of a file, or of stdin for ``-``, refusing anything over :data:`MAX_INPUT_BYTES`."""
    try:
        if source == "-":
            stdin = sys.stdin
            buffer = getattr(stdin, "buffer", None)
            raw = buffer.read(MAX_INPUT_BYTES + 1) if buffer is not None else stdin.read(MAX_INPUT_BYTES + 1)
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        else:
            with open(source, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the {what} {_display(source)}: {exc.strerror or exc}", path=source) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"the {what} {_display(source)} is larger than {MAX_INPUT_BYTES} bytes", path=source)
    return data


def _read_text(source: str, *, what: str) -> str:
    try:
        return _read_bytes(source, what=what).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InputError(f"the {what} {_display(source)} is not UTF-8 text", path=source) from None


def _read_json(source: str, *, what: str) -> Any:
    try:
        return json_loads(_read_text(source, what=what))
    except EncodingError as exc:
        raise InputError(f"the {what} {_display(source)} is not JSON: {exc.reason}", path=source) from None


def _parse_time(text: str) -> datetime:
    """``--now``: seconds since 1970, or ISO 8601 (UTC when no offset is given)."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a usable time") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither ISO 8601 nor seconds since 1970") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


# --- sd-jwt ------------------------------------------------------------------------------------


def add_sd_jwt_commands(subcommands: Subcommands) -> None:
    group = subcommands.add_parser("sd-jwt", help="decode and verify SD-JWTs and SD-JWT VCs")
    commands = group.add_subparsers(dest="sd_jwt_command", metavar="COMMAND", required=True)

    decode = commands.add_parser(
        "decode", help="take an SD-JWT apart WITHOUT verifying it", description="Signatures are NOT checked."
    )
    decode.add_argument("file", metavar="FILE", help="the SD-JWT, or - for stdin")
    decode.set_defaults(handler=_sd_jwt_decode)

    verify = commands.add_parser(
        "verify",
        help="verify an SD-JWT (VC) presentation against the issuer's keys",
        description=(
            "Exit 0 when valid, 1 when not, 2 on a usage or input error. A token whose typ is "
            f"{TYP_DC_SD_JWT} is verified as an SD-JWT VC, any other as a plain SD-JWT."
        ),
    )
    verify.add_argument("file", metavar="FILE", help="the SD-JWT or SD-JWT+KB, or - for stdin")
    verify.add_argument(
        "--issuer-jwks",
        required=True,
        metavar="FILE",
        help='a JWK Set, or JWT VC Issuer Metadata {"issuer", "jwks"} (then iss must match)',
    )
    verify.add_argument("--nonce", help="the nonce the key binding JWT must carry")
    verify.add_argument("--aud", help="the audience the key binding JWT must name")
    verify.add_argument(
        "--require-kb", action="store_true", help="require a key binding JWT (then --nonce and --aud are required)"
    )
    verify.add_argument(
        "--now", type=_parse_time, help="the time to verify at: ISO 8601 or seconds since 1970 (default: now)"
    )
    verify.add_argument(
        "--typ",
        nargs="+",
        action="extend",
        metavar="T",
        help=f"accepted typ values of the issuer-signed JWT (default: {TYP_DC_SD_JWT} for an SD-JWT VC, any otherwise)",
    )
    verify.add_argument(
        "--kb-max-age",
        type=_non_negative_int,
        default=int(VerifyPolicy().kb_max_age.total_seconds()),
        metavar="SECONDS",
        help="how old a key binding JWT may be (default: %(default)s)",
    )
    verify.set_defaults(handler=_sd_jwt_verify)


def _sd_jwt_decode(args: argparse.Namespace) -> int:
    decoded = decode_sd_jwt(_read_sd_jwt(args.file))
    key_binding = (
        None
        if decoded.kb_header is None
        else {"header": dict(decoded.kb_header), "payload": dict(decoded.kb_payload or {})}
    )
    _print_json(
        {
            "header": dict(decoded.header),
            "payload": dict(decoded.payload),
            "disclosures": [
                {"salt": d.salt, "name": d.name, "value": d.value, "digest": d.digest} for d in decoded.disclosures
            ],
            "claims": decoded.claims,
            "key_binding": key_binding,
        }
    )
    return EXIT_OK


def _sd_jwt_verify(args: argparse.Namespace) -> int:
    if (args.nonce is None) != (args.aud is None):
        raise UsageError("--nonce and --aud go together: give both or neither")
    if args.require_kb and args.nonce is None:
        raise UsageError("--require-kb needs --nonce and --aud: the key binding JWT is checked against them")
    resolver = _issuer_key_resolver(args.issuer_jwks)
    sd_jwt = _read_sd_jwt(args.file)
    typ = _unverified_typ(sd_jwt)
    now: datetime = args.now if args.now is not None else datetime.now(timezone.utc)
    # With a nonce but without --require-kb, a KB-JWT that is there is held to that nonce and
    # audience; one that is absent is not demanded.
    kb = (
        KbExpectation(nonce=args.nonce, aud=args.aud)
        if args.nonce is not None and (args.require_kb or sd_jwt.kb_jwt is not None)
        else None
    )
    policy = VerifyPolicy(
        typ=tuple(args.typ) if args.typ else None, kb_max_age=timedelta(seconds=args.kb_max_age)
    )
    try:
        if typ in (TYP_DC_SD_JWT, LEGACY_TYP_VC_SD_JWT):
            # The legacy typ lands here too, so that it is refused unless --typ admits it,
            # rather than slipping through as a plain SD-JWT without the VC rules.
            claims = verify_sd_jwt_vc(sd_jwt, issuer_key=resolver, kb=kb, now=now, policy=policy).claims
        else:
            claims = verify_sd_jwt(sd_jwt, issuer_key=resolver, kb=kb, now=now, policy=policy).claims
    except TsunaguError as exc:
        _print_json({"valid": False, "claims": {}, "errors": [_error_json(exc)]})
        return EXIT_INVALID
    _print_json({"valid": True, "claims": claims, "errors": []})
    return EXIT_OK


def _read_sd_jwt(source: str) -> SdJwt:
    text = _read_text(source, what="SD-JWT")
    try:
        return parse_sd_jwt(text, max_bytes=DEFAULT_MAX_SD_JWT_BYTES)
    except SdJwtError as exc:
        raise InputError(f"{_display(source)} is not an SD-JWT: {exc.reason}", path=source) from None


def _unverified_typ(sd_jwt: SdJwt) -> object:
    """The issuer JWT header's ``typ``, read only to choose how to verify (the verifier pins it)."""
    header_b64 = sd_jwt.issuer_jwt.split(".", 1)[0]
    try:
        header = json_loads(b64url_decode(header_b64))
    except (EncodingError, UnicodeEncodeError):
        raise InputError("the issuer-signed JWT's header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise InputError("the issuer-signed JWT's header is not a JSON object")
    return header.get("typ")


def _read_keys(source: str) -> tuple[PublicJwk, ...]:
    """The keys of a JWK Set file, or of the ``jwks`` of a JWT VC Issuer Metadata file."""
    return _parse_key_document(_read_json(source, what="JWKS"), source=source)[1]


def _issuer_key_resolver(source: str) -> IssuerKeyResolver:
    """A resolver over a JWK Set, or over JWT VC Issuer Metadata (which also pins ``iss``)."""
    issuer, keys = _parse_key_document(_read_json(source, what="issuer JWKS"), source=source)
    return _jwks_resolver(keys) if issuer is None else issuer_key_resolver(issuer, keys)


def _parse_key_document(document: object, *, source: str) -> tuple[str | None, tuple[PublicJwk, ...]]:
    """``(issuer, keys)`` from a JWK Set (issuer None) or JWT VC Issuer Metadata.

    Raises:
        InputError: neither form, keys that cannot be used, or metadata with only ``jwks_uri``
            (the command does not go on the network: fetch the JWK Set and pass that).
    """
    if not isinstance(document, Mapping):
        raise InputError(f"the JWKS {source!r} is not a JSON object", path=source)
    try:
        if "issuer" not in document:
            return None, parse_jwks(document)
        issuer = document["issuer"]
        if not isinstance(issuer, str):
            raise InvalidIssuerMetadata("the metadata's 'issuer' must be a string")
        if "jwks" not in document:
            raise InvalidIssuerMetadata(
                "the metadata has no 'jwks' (only 'jwks_uri'?): fetch the JWK Set and pass it instead"
            )
        return issuer, parse_issuer_metadata(document, expected_issuer=issuer).jwks or ()
    except (JwkError, InvalidIssuerMetadata) as exc:
        raise InputError(f"the JWKS {source!r} is unusable: {exc.reason}", path=source) from None


def _jwks_resolver(keys: Sequence[PublicJwk]) -> IssuerKeyResolver:
    """The key the header's ``kid`` names, or the only key of the set."""

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicJwk:
        kid = header.get("kid")
        named = [k for k in keys if kid is not None and k.kid == kid]
        if len(named) == 1:
            return named[0]
        if len(keys) == 1 and (kid is None or keys[0].kid is None):
            return keys[0]
        raise IssuerKeyNotFound(
            f"the JWK Set has no key for kid {kid!r}" if kid is not None else "the token names no kid and the JWK Set has several keys",
            kid=kid,
        )

    return resolve


# --- status-list -------------------------------------------------------------------------------


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
    read.add_argument("--idx", type=_non_negative_int, required=True, metavar="I", help="the index to read")
    read.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_STATUS_LIST_BYTES,
        metavar="N",
        help="refuse a list that inflates to more bytes than this (default: %(default)s)",
    )
    read.add_argument(
        "--jwks", metavar="FILE", help="verify the token with this JWK Set (or issuer metadata's 'jwks'); needs --uri"
    )
    read.add_argument("--uri", help="the URI the token was fetched from: its 'sub' must equal it")
    read.add_argument("--now", type=_parse_time, help="the time to check exp/ttl at (default: now)")
    read.set_defaults(handler=_status_list_read)


def _status_list_read(args: argparse.Namespace) -> int:
    if args.jwks is not None and args.uri is None:
        raise UsageError("--jwks needs --uri: a verified token must be the one for that URI (its 'sub')")
    if args.uri is not None and args.jwks is None:
        raise UsageError("--uri is checked only when the token is verified: give --jwks too")
    text = _read_text(args.file, what="status list")
    verified = False
    if text.startswith("{"):
        if args.jwks is not None:
            raise UsageError("--jwks verifies a status list token, but the input is a bare JSON status list")
        try:
            document = json_loads(text)
        except EncodingError as exc:
            raise InputError(f"the status list {_display(args.file)} is not JSON: {exc.reason}", path=args.file) from None
        lst = decode_status_list(document, max_bytes=args.max_bytes)
    elif args.jwks is None:
        lst = _unverified_status_list_token(text, max_bytes=args.max_bytes)
    else:
        keys = _jwks_resolver(_read_keys(args.jwks))
        jose.parse_compact(text, typ=TYP_STATUSLIST_JWT)  # not even a token: an input error
        now: datetime = args.now if args.now is not None else datetime.now(timezone.utc)
        try:
            lst = verify_status_list_token(
                text, key=keys, expected_sub=args.uri, now=now, max_bytes=args.max_bytes
            ).status_list
        except TsunaguError as exc:
            _print_json(_error_json(exc), sys.stderr)
            return EXIT_INVALID
        verified = True
    status = lst.get(args.idx)
    _print_json(
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


# --- keys --------------------------------------------------------------------------------------

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
    _print_json(generate_key(alg, kid=args.kid).to_jwk(include_private=True))
    return EXIT_OK


# --- the command -------------------------------------------------------------------------------

#: One function per command group; a service adds ``add_serve_commands`` and the like here.
def add_demo_command(subcommands: Subcommands) -> None:
    command = subcommands.add_parser("demo", help="tell the credential story end to end (the README's first command)")
    command.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


COMMAND_GROUPS: list[Callable[[Subcommands], None]] = [
    add_demo_command,
    add_sd_jwt_commands,
    add_status_list_commands,
    add_keys_commands,
]


def _version() -> str:
    try:
        return metadata.version("tsunagu")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        _print_json(_error_json(exc), sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the CLI's "500 handler": a bug, but never a traceback
        _print_json(
            {"code": "cli.internal_error", "reason": f"unexpected {type(exc).__name__}: {exc} (this is a bug)"},
            sys.stderr,
        )
        return EXIT_INTERNAL


def _utf8_stdio() -> None:
    """JSON output is UTF-8 whatever the locale says (Japanese names must not crash a C locale)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
