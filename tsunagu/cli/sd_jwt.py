"""``tsunagu sd-jwt decode|verify``: the first tools a developer integrating with Tsunagu reaches for."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from .base import (
    EXIT_INVALID,
    EXIT_OK,
    InputError,
    Subcommands,
    UsageError,
    display,
    error_json,
    non_negative_int,
    parse_time,
    print_json,
    read_json,
    read_text,
)
from ..encoding import b64url_decode, json_loads
from ..errors import (
    EncodingError,
    InvalidIssuerMetadata,
    IssuerKeyNotFound,
    JwkError,
    SdJwtError,
    TsunaguError,
)
from ..jwk import PublicJwk, parse_jwks
from ..kb_jwt import KbExpectation
from ..sd_jwt.compact import DEFAULT_MAX_SD_JWT_BYTES, SdJwt, parse_sd_jwt
from ..sd_jwt.holder import decode_sd_jwt
from ..sd_jwt.verifier import IssuerKeyResolver, VerifyPolicy, verify_sd_jwt
from ..sd_jwt_vc import (
    LEGACY_TYP_VC_SD_JWT,
    TYP_DC_SD_JWT,
    issuer_key_resolver,
    parse_issuer_metadata,
    verify_sd_jwt_vc,
)

__all__ = ["add_sd_jwt_commands", "read_keys", "jwks_resolver"]



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
        "--now", type=parse_time, help="the time to verify at: ISO 8601 or seconds since 1970 (default: now)"
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
        type=non_negative_int,
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
    print_json(
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
        print_json({"valid": False, "claims": {}, "errors": [error_json(exc)]})
        return EXIT_INVALID
    print_json({"valid": True, "claims": claims, "errors": []})
    return EXIT_OK


def _read_sd_jwt(source: str) -> SdJwt:
    text = read_text(source, what="SD-JWT")
    try:
        return parse_sd_jwt(text, max_bytes=DEFAULT_MAX_SD_JWT_BYTES)
    except SdJwtError as exc:
        raise InputError(f"{display(source)} is not an SD-JWT: {exc.reason}", path=source) from None


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


def read_keys(source: str) -> tuple[PublicJwk, ...]:
    """The keys of a JWK Set file, or of the ``jwks`` of a JWT VC Issuer Metadata file."""
    return _parse_key_document(read_json(source, what="JWKS"), source=source)[1]


def _issuer_key_resolver(source: str) -> IssuerKeyResolver:
    """A resolver over a JWK Set, or over JWT VC Issuer Metadata (which also pins ``iss``)."""
    issuer, keys = _parse_key_document(read_json(source, what="issuer JWKS"), source=source)
    return jwks_resolver(keys) if issuer is None else issuer_key_resolver(issuer, keys)


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


def jwks_resolver(keys: Sequence[PublicJwk]) -> IssuerKeyResolver:
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

