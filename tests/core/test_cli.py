"""The ``tsunagu`` command: JSON out, exit 0/1/2, and never a traceback on bad input."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tsunagu import cli
from tsunagu.encoding import b64url_decode, b64url_encode, json_dumps
from tsunagu.jwk import PrivateJwk, generate_key, parse_private_jwk
from tsunagu.jose import sign_compact
from tsunagu.kb_jwt import KeyBindingRequest
from tsunagu.sd_jwt.holder import present_sd_jwt
from tsunagu.sd_jwt.issuer import IssuedSdJwt, issue_sd_jwt
from tsunagu.sd_jwt_vc import issue_sd_jwt_vc
from tsunagu.status_list import StatusList, encode_status_list, issue_status_list_token

ISSUER = "https://tax.city-koto.example"
VERIFIER = "https://bank.example"
NONCE = "n-8fJ2kq"
VCT = "https://credentials.example/resident-tax"
STATUS_URI = "https://tax.city-koto.example/status/1"
SUBJECT: dict[str, Any] = {
    "given_name": "MAI",
    "family_name": "NGUYEN",
    "family_name_kana": "グエン",
    "address": {"prefecture": "東京都", "city": "江東区"},
    "taxable_income": 4_800_000,
    "fiscal_year": 2025,
}
DISCLOSABLE = [("given_name",), ("family_name",), ("family_name_kana",), ("address",), ("address", "city"), ("taxable_income",)]


@dataclass
class Run:
    code: int
    out: Any
    err: Any


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return Run(
        code,
        json.loads(captured.out) if captured.out else None,
        json.loads(captured.err) if captured.err else None,
    )


def write(tmp_path: Path, name: str, content: str | bytes | object) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def credential(issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime) -> IssuedSdJwt:
    return issue_sd_jwt_vc(
        SUBJECT,
        vct=VCT,
        key=issuer_key,
        issuer=ISSUER,
        iat=now - timedelta(days=1),
        exp=now + timedelta(days=365),
        holder_key=holder_key.public,
        status={"status_list": {"idx": 3, "uri": STATUS_URI}},
        selectively_disclosable=DISCLOSABLE,
    )


@pytest.fixture
def presentation(credential: IssuedSdJwt, holder_key: PrivateJwk, now: datetime) -> str:
    return present_sd_jwt(
        credential.compact,
        [("given_name",), ("address", "city")],
        key_binding=KeyBindingRequest(holder_key=holder_key, aud=VERIFIER, nonce=NONCE, iat=now),
    )


@pytest.fixture
def jwks(tmp_path: Path, issuer_key: PrivateJwk) -> Path:
    return write(tmp_path, "jwks.json", {"keys": [issuer_key.public.to_jwk()]})


@pytest.fixture
def metadata(tmp_path: Path, issuer_key: PrivateJwk) -> Path:
    return write(tmp_path, "jwt-vc-issuer.json", {"issuer": ISSUER, "jwks": {"keys": [issuer_key.public.to_jwk()]}})


def expected_claims(credential: IssuedSdJwt, holder_key: PrivateJwk, disclosed: dict[str, Any]) -> dict[str, Any]:
    registered = {k: credential.payload[k] for k in ("vct", "iss", "iat", "exp", "cnf", "status")}
    assert registered["cnf"] == {"jwk": holder_key.public.to_jwk()}
    return {**registered, "fiscal_year": 2025, **disclosed}


# --- sd-jwt decode ------------------------------------------------------------------------------


def test_decode_prints_every_part_of_an_issued_credential(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, credential: IssuedSdJwt, holder_key: PrivateJwk,
    issuer_key: PrivateJwk,
) -> None:
    result = run(capsys, "sd-jwt", "decode", write(tmp_path, "cred.txt", credential.compact + "\n"))

    assert result.code == 0
    assert result.out == {
        "header": {"alg": "ES256", "kid": issuer_key.kid, "typ": "dc+sd-jwt"},
        "payload": credential.payload,
        "disclosures": [
            {"salt": d.salt, "name": d.name, "value": d.value, "digest": d.digest} for d in credential.disclosures
        ],
        "claims": expected_claims(credential, holder_key, SUBJECT),
        "key_binding": None,
    }
    assert [d["name"] for d in result.out["disclosures"]] == [
        "given_name", "family_name", "family_name_kana", "city", "address", "taxable_income"
    ]


def test_decode_shows_array_elements_with_null_name_and_the_key_binding_jwt(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, issuer_key: PrivateJwk, holder_key: PrivateJwk, now: datetime
) -> None:
    issued = issue_sd_jwt(
        {"nationalities": ["VN", "JP"], "cnf": {"jwk": holder_key.public.to_jwk()}},
        key=issuer_key,
        selectively_disclosable=[("nationalities", None)],
    )
    shown = present_sd_jwt(
        issued.compact, [("nationalities", 1)],
        key_binding=KeyBindingRequest(holder_key=holder_key, aud=VERIFIER, nonce=NONCE, iat=now),
    )

    result = run(capsys, "sd-jwt", "decode", write(tmp_path, "p.txt", shown))

    assert result.code == 0
    jp = issued.disclosures[1]
    assert result.out["disclosures"] == [{"salt": jp.salt, "name": None, "value": "JP", "digest": jp.digest}]
    assert result.out["claims"]["nationalities"] == ["JP"]
    kb_header, kb_payload = (json.loads(b64url_decode(p)) for p in shown.rsplit("~", 1)[1].split(".")[:2])
    assert result.out["key_binding"] == {"header": kb_header, "payload": kb_payload}
    assert kb_payload["nonce"] == NONCE and kb_header["typ"] == "kb+jwt"


# --- sd-jwt verify -----------------------------------------------------------------------------


def verify_args(path: Path, keys: Path, *extra: str) -> list[str | Path]:
    return ["sd-jwt", "verify", path, "--issuer-jwks", keys, "--now", "2026-11-23T09:00:30Z", *extra]


@pytest.mark.parametrize("keys", ["jwks", "metadata"])
def test_verify_valid_presentation_exits_0_with_only_the_disclosed_claims(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, tmp_path: Path, presentation: str,
    credential: IssuedSdJwt, holder_key: PrivateJwk, keys: str,
) -> None:
    path = write(tmp_path, "p.txt", presentation)
    result = run(capsys, *verify_args(path, request.getfixturevalue(keys), "--require-kb", "--nonce", NONCE, "--aud", VERIFIER))

    assert (result.code, result.err) == (0, None), result.err
    assert result.out == {
        "valid": True,
        "claims": expected_claims(credential, holder_key, {"given_name": "MAI", "address": {"prefecture": "東京都", "city": "江東区"}}),
        "errors": [],
    }


def test_verify_accepts_now_as_seconds_since_1970(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, jwks: Path, now: datetime
) -> None:
    path = write(tmp_path, "p.txt", presentation)
    args = ["sd-jwt", "verify", path, "--issuer-jwks", jwks, "--nonce", NONCE, "--aud", VERIFIER, "--require-kb"]
    assert run(capsys, *args, "--now", str(int(now.timestamp()))).code == 0
    late = run(capsys, *args, "--now", str(int(now.timestamp()) + 3600))
    assert (late.code, late.out["errors"][0]["code"]) == (1, "kb_jwt.iat_out_of_window")


def _resign_payload(compact: str, change: dict[str, Any]) -> str:
    """The same token with a changed payload but the original signature."""
    jwt, rest = compact.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = {**json.loads(b64url_decode(payload)), **change}
    return f"{header}.{b64url_encode(json_dumps(claims).encode())}.{signature}~{rest}"


def _swap_disclosure(presentation: str) -> str:
    parts = presentation.split("~")
    forged = b64url_encode(json_dumps(["c2FsdHNhbHRzYWx0", "given_name", "TARO"]).encode())
    return "~".join([parts[0], forged, *parts[2:]])


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        (lambda p: _resign_payload(p, {"fiscal_year": 2024}), "sd_jwt.issuer_signature_invalid"),
        (lambda p: _resign_payload(p, {"iss": "https://evil.example"}), "sd_jwt_vc.iss_mismatch"),
        (lambda p: _resign_payload(p, {"exp": 4102444800}), "sd_jwt.issuer_signature_invalid"),
        (_swap_disclosure, "sd_jwt.disclosure_not_referenced"),
        (lambda p: p[: p.rindex("~") + 1], "kb_jwt.missing"),
        (lambda p: p[:-3] + ("AAA" if p[-3:] != "AAA" else "BBB"), "kb_jwt.invalid_signature"),
    ],
    ids=["payload_altered", "issuer_swapped", "exp_extended", "disclosure_swapped", "kb_jwt_stripped", "kb_signature_altered"],
)
def test_verify_tampered_presentation_exits_1_naming_the_failed_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, metadata: Path, mutation: Any, code: str
) -> None:
    path = write(tmp_path, "p.txt", mutation(presentation))
    result = run(capsys, *verify_args(path, metadata, "--require-kb", "--nonce", NONCE, "--aud", VERIFIER))

    assert result.code == 1
    assert result.out["valid"] is False and result.out["claims"] == {}
    assert [e["code"] for e in result.out["errors"]] == [code]
    assert result.out["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--nonce", "n-other", "--aud", VERIFIER], "kb_jwt.nonce_mismatch"),
        (["--nonce", NONCE, "--aud", "https://other-bank.example"], "kb_jwt.aud_mismatch"),
        (["--nonce", "n-other", "--aud", VERIFIER, "--require-kb"], "kb_jwt.nonce_mismatch"),
    ],
    ids=["wrong_nonce", "wrong_aud", "wrong_nonce_required"],
)
def test_verify_holds_a_present_kb_jwt_to_the_given_nonce_and_aud(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, jwks: Path, flags: list[str], code: str
) -> None:
    result = run(capsys, *verify_args(write(tmp_path, "p.txt", presentation), jwks, *flags))
    assert (result.code, [e["code"] for e in result.out["errors"]]) == (1, [code])


def test_verify_require_kb_refuses_a_credential_without_key_binding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, credential: IssuedSdJwt, jwks: Path
) -> None:
    path = write(tmp_path, "c.txt", credential.compact)
    assert run(capsys, *verify_args(path, jwks)).code == 0  # fine when key binding is not asked for

    result = run(capsys, *verify_args(path, jwks, "--require-kb", "--nonce", NONCE, "--aud", VERIFIER))
    assert result.code == 1
    assert result.out == {
        "valid": False,
        "claims": {},
        "errors": [{"code": "kb_jwt.missing", "reason": result.out["errors"][0]["reason"]}],
    }


@pytest.mark.parametrize(
    "flags",
    [["--require-kb"], ["--require-kb", "--nonce", NONCE], ["--nonce", NONCE], ["--aud", VERIFIER]],
    ids=["no_nonce_no_aud", "no_aud", "nonce_alone", "aud_alone"],
)
def test_verify_kb_flags_without_their_partner_are_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, jwks: Path, flags: list[str]
) -> None:
    result = run(capsys, *verify_args(write(tmp_path, "p.txt", presentation), jwks, *flags))
    assert (result.code, result.out, result.err["code"]) == (2, None, "cli.usage")


def test_verify_checks_expiry_and_issuer_against_metadata(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, credential: IssuedSdJwt, jwks: Path, issuer_key: PrivateJwk
) -> None:
    path = write(tmp_path, "c.txt", credential.compact)
    expired = run(capsys, "sd-jwt", "verify", path, "--issuer-jwks", jwks, "--now", "2030-01-01T00:00:00+09:00")
    assert (expired.code, expired.out["errors"][0]["code"]) == (1, "sd_jwt.expired")

    other = write(tmp_path, "other.json", {"issuer": "https://other.example", "jwks": {"keys": [issuer_key.public.to_jwk()]}})
    mismatch = run(capsys, *verify_args(path, other))
    assert (mismatch.code, mismatch.out["errors"][0]["code"]) == (1, "sd_jwt_vc.iss_mismatch")


def test_verify_with_the_wrong_key(capsys: pytest.CaptureFixture[str], tmp_path: Path, credential: IssuedSdJwt) -> None:
    path = write(tmp_path, "c.txt", credential.compact)
    stranger = generate_key("ES256")
    named = write(tmp_path, "named.json", {"keys": [stranger.public.to_jwk()]})
    unnamed = write(tmp_path, "unnamed.json", {"keys": [{k: v for k, v in stranger.public.to_jwk().items() if k != "kid"}]})

    assert run(capsys, *verify_args(path, named)).out["errors"][0]["code"] == "sd_jwt_vc.issuer_key_not_found"
    assert run(capsys, *verify_args(path, unnamed)).out["errors"][0]["code"] == "sd_jwt.issuer_signature_invalid"


def test_verify_legacy_typ_only_when_admitted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, issuer_key: PrivateJwk, jwks: Path, now: datetime
) -> None:
    legacy = issue_sd_jwt(
        {"vct": VCT, "iss": ISSUER, "given_name": "MAI"}, key=issuer_key, header={"typ": "vc+sd-jwt"},
        selectively_disclosable=[("given_name",)],
    )
    path = write(tmp_path, "legacy.txt", legacy.compact)

    refused = run(capsys, *verify_args(path, jwks))
    assert (refused.code, refused.out["errors"][0]["code"]) == (1, "jose.unexpected_typ")
    admitted = run(capsys, *verify_args(path, jwks, "--typ", "dc+sd-jwt", "vc+sd-jwt"))
    assert (admitted.code, admitted.out["claims"]) == (0, {"vct": VCT, "iss": ISSUER, "given_name": "MAI"})


def test_verify_plain_sd_jwt_with_typ_pinning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, issuer_key: PrivateJwk, jwks: Path
) -> None:
    issued = issue_sd_jwt({"a": 1, "b": [1, 2]}, key=issuer_key, header={"typ": "example+sd-jwt"},
                          selectively_disclosable=[("a",), ("b", 0)])
    path = write(tmp_path, "plain.txt", issued.compact)

    assert run(capsys, *verify_args(path, jwks)).out == {"valid": True, "claims": {"a": 1, "b": [1, 2]}, "errors": []}
    pinned = run(capsys, *verify_args(path, jwks, "--typ", "other+sd-jwt"))
    assert (pinned.code, pinned.out["errors"][0]["code"]) == (1, "jose.unexpected_typ")


@pytest.mark.interop
def test_verify_credential_from_the_reference_implementation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """PyPI ``sd-jwt`` issues (with decoys) and presents; the CLI must verify both forms."""
    from jwcrypto.jwk import JWK
    from sd_jwt.common import SDObj
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.issuer import SDJWTIssuer

    issuer_jwk = JWK.generate(kty="EC", crv="P-256", kid="ref-2026")
    holder_jwk = JWK.generate(kty="EC", crv="P-256")
    iat = int(time.time())
    claims = {
        "iss": ISSUER, "vct": VCT, "iat": iat,
        SDObj("given_name"): "MAI",
        SDObj("address"): {SDObj("city"): "江東区", "country": "JP"},
        "nationalities": [SDObj("VN"), "JP"],
    }
    issued = SDJWTIssuer(claims, issuer_jwk, holder_jwk, add_decoy_claims=True,
                         extra_header_parameters={"typ": "dc+sd-jwt", "kid": "ref-2026"})
    holder = SDJWTHolder(issued.sd_jwt_issuance)
    holder.create_presentation({"address": {"city": True}, "nationalities": [True, False]},
                               nonce=NONCE, aud=VERIFIER, holder_key=holder_jwk)
    keys = write(tmp_path, "ref-jwks.json", {"issuer": ISSUER, "jwks": {"keys": [json.loads(issuer_jwk.export_public())]}})
    cnf = {"jwk": json.loads(holder_jwk.export_public())}

    full = run(capsys, "sd-jwt", "verify", write(tmp_path, "ref.txt", issued.sd_jwt_issuance), "--issuer-jwks", keys,
               "--now", str(iat))
    assert (full.code, full.out["claims"]) == (0, {
        "iss": ISSUER, "vct": VCT, "iat": iat, "cnf": cnf, "given_name": "MAI",
        "address": {"city": "江東区", "country": "JP"}, "nationalities": ["VN", "JP"],
    })

    shown = write(tmp_path, "ref-pres.txt", holder.sd_jwt_presentation)
    kb_iat = run(capsys, "sd-jwt", "decode", shown).out["key_binding"]["payload"]["iat"]
    presented = run(capsys, "sd-jwt", "verify", shown, "--issuer-jwks", keys, "--require-kb", "--nonce", NONCE,
                    "--aud", VERIFIER, "--now", str(kb_iat))
    assert (presented.code, presented.out["claims"]) == (0, {
        "iss": ISSUER, "vct": VCT, "iat": iat, "cnf": cnf,
        "address": {"city": "江東区", "country": "JP"}, "nationalities": ["VN", "JP"],
    })
    wrong = run(capsys, "sd-jwt", "verify", shown, "--issuer-jwks", keys, "--require-kb", "--nonce", "n-other",
                "--aud", VERIFIER, "--now", str(kb_iat))
    assert (wrong.code, wrong.out["errors"][0]["code"]) == (1, "kb_jwt.nonce_mismatch")


# --- status-list read --------------------------------------------------------------------------


@pytest.fixture
def status_list() -> StatusList:
    lst = StatusList.new(32, 2)
    for idx, value in {3: 1, 5: 2, 7: 3}.items():
        lst.set(idx, value)
    return lst


@pytest.mark.parametrize(
    ("idx", "status", "name"), [(0, 0, "VALID"), (3, 1, "INVALID"), (5, 2, "SUSPENDED"), (7, 3, "0x03"), (31, 0, "VALID")]
)
def test_status_list_read_json_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, status_list: StatusList, idx: int, status: int, name: str
) -> None:
    path = write(tmp_path, "list.json", encode_status_list(status_list))
    result = run(capsys, "status-list", "read", path, "--idx", str(idx))
    assert (result.code, result.out) == (
        0, {"idx": idx, "status": status, "status_name": name, "bits": 2, "size": 32, "verified": False}
    )


def test_status_list_read_spec_example(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1 / 1,1,1,0,0,0,1,0 as bytes 0xB9 0xA3."""
    lst = b64url_encode(__import__("zlib").compress(bytes([0xB9, 0xA3])))
    path = write(tmp_path, "list.json", {"bits": 1, "lst": lst})
    statuses = [run(capsys, "status-list", "read", path, "--idx", str(i)).out["status"] for i in range(16)]
    assert statuses == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_status_list_read_token_unverified_and_verified(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, status_list: StatusList, issuer_key: PrivateJwk,
    jwks: Path, metadata: Path, now: datetime,
) -> None:
    token = issue_status_list_token(status_list, key=issuer_key, sub=STATUS_URI, iat=now, exp=now + timedelta(hours=1), ttl=600)
    path = write(tmp_path, "list.jwt", token + "\n")
    expected = {"idx": 5, "status": 2, "status_name": "SUSPENDED", "bits": 2, "size": 32}

    assert run(capsys, "status-list", "read", path, "--idx", "5").out == {**expected, "verified": False}
    for keys in (jwks, metadata):
        verified = run(capsys, "status-list", "read", path, "--idx", "5", "--jwks", keys, "--uri", STATUS_URI,
                       "--now", "2026-11-23T09:10:00Z")
        assert (verified.code, verified.out) == (0, {**expected, "verified": True})

    other_uri = run(capsys, "status-list", "read", path, "--idx", "5", "--jwks", jwks, "--uri", STATUS_URI + "x",
                    "--now", "2026-11-23T09:10:00Z")
    assert (other_uri.code, other_uri.out, other_uri.err["code"]) == (1, None, "status_list.sub_mismatch")
    expired = run(capsys, "status-list", "read", path, "--idx", "5", "--jwks", jwks, "--uri", STATUS_URI,
                  "--now", "2026-11-24T09:00:00Z")
    assert (expired.code, expired.err["code"]) == (1, "status_list.token_expired")
    stranger = write(tmp_path, "stranger.json", {"keys": [{**generate_key("ES256").public.to_jwk(), "kid": issuer_key.kid}]})
    forged = run(capsys, "status-list", "read", path, "--idx", "5", "--jwks", stranger, "--uri", STATUS_URI,
                 "--now", "2026-11-23T09:10:00Z")
    assert (forged.code, forged.err["code"]) == (1, "status_list.invalid_signature")


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--idx", "32"], "status_list.index_out_of_range"),
        (["--idx", "0", "--max-bytes", "4"], "status_list.too_large"),
        (["--idx", "-1"], "cli.usage"),
        (["--idx", "0", "--max-bytes", "0"], "cli.usage"),
        (["--idx", "0", "--uri", STATUS_URI], "cli.usage"),
    ],
    ids=["index_beyond_the_list", "inflates_past_max_bytes", "negative_index", "zero_max_bytes", "uri_without_jwks"],
)
def test_status_list_read_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, status_list: StatusList, flags: list[str], code: str
) -> None:
    path = write(tmp_path, "list.json", encode_status_list(status_list))
    result = run(capsys, "status-list", "read", path, *flags)
    assert (result.code, result.out, result.err["code"]) == (2, None, code)


def test_status_list_read_zip_bomb_is_refused_without_inflating_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bomb = b64url_encode(__import__("zlib").compress(bytes(64 << 20), 9))  # 64 MiB of zeros in ~64 KiB
    path = write(tmp_path, "bomb.json", {"bits": 1, "lst": bomb})
    result = run(capsys, "status-list", "read", path, "--idx", "0")
    assert (result.code, result.err["code"]) == (2, "status_list.too_large")


def test_status_list_read_jwks_needs_uri(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, status_list: StatusList, issuer_key: PrivateJwk, jwks: Path,
    now: datetime,
) -> None:
    token = issue_status_list_token(status_list, key=issuer_key, sub=STATUS_URI, iat=now, exp=None, ttl=None)
    result = run(capsys, "status-list", "read", write(tmp_path, "t.jwt", token), "--idx", "0", "--jwks", jwks)
    assert (result.code, result.err["code"]) == (2, "cli.usage")


# --- keys and version --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_keys_generate_prints_a_usable_private_jwk(capsys: pytest.CaptureFixture[str], alg: str) -> None:
    result = run(capsys, "keys", "generate", "--alg", alg)
    assert result.code == 0
    key = parse_private_jwk(result.out)
    assert key.alg == alg and result.out["alg"] == alg
    assert key.kid == result.out["kid"] == key.thumbprint()
    assert sign_compact({"typ": "JWT"}, {"ok": True}, key).count(".") == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tsunagu {cli._version()}"


# --- bad input: exit 2, JSON on stderr, never a traceback --------------------------------------


GARBAGE: dict[str, bytes] = {
    "empty": b"",
    "text": b"hello world",
    "binary": bytes(range(256)),
    "tilde_only": b"~",
    "jwt_without_tilde": b"eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
    "bad_base64": b"!!!.###.$$$~",
    "header_not_object": base64.urlsafe_b64encode(b"[1]").rstrip(b"=") + b".e30.AA~",
    "non_ascii": "ヘッダー.ペイロード.署名~開示~".encode(),
    "json_array": b"[1, 2, 3]",
    "nested_json": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("content", GARBAGE.values(), ids=GARBAGE.keys())
@pytest.mark.parametrize(
    "command", [["sd-jwt", "decode"], ["sd-jwt", "verify", "--issuer-jwks", "JWKS"], ["status-list", "read", "--idx", "0"]],
    ids=["decode", "verify", "status_list"],
)
def test_garbage_input_is_exit_2_with_a_json_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jwks: Path, content: bytes, command: list[str]
) -> None:
    path = write(tmp_path, "garbage", content)
    argv = [str(jwks) if a == "JWKS" else a for a in command]
    result = run(capsys, *argv[:2], path, *argv[2:])
    assert result.code == 2, result
    assert result.out is None
    assert set(result.err) == {"code", "reason"} and result.err["reason"]


def test_well_formed_jwt_with_a_garbage_disclosure(capsys: pytest.CaptureFixture[str], tmp_path: Path, jwks: Path) -> None:
    """decode has nothing to go on but the structure; verify first finds the signature wrong."""
    path = write(tmp_path, "t.txt", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA~not-json~")
    decoded = run(capsys, "sd-jwt", "decode", path)
    assert (decoded.code, decoded.err["code"]) == (2, "sd_jwt.malformed_disclosure")
    verified = run(capsys, *verify_args(path, jwks))
    assert (verified.code, verified.out["errors"][0]["code"]) == (1, "sd_jwt.issuer_signature_invalid")


@pytest.mark.parametrize(
    "argv",
    [
        ["sd-jwt", "decode", "MISSING"],
        ["sd-jwt", "verify", "PRESENTATION", "--issuer-jwks", "MISSING"],
        ["status-list", "read", "MISSING", "--idx", "0"],
        ["sd-jwt", "decode", "DIRECTORY"],
    ],
    ids=["decode", "verify_jwks", "status_list", "directory"],
)
def test_unreadable_file_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, argv: list[str]
) -> None:
    paths = {"MISSING": str(tmp_path / "nope.txt"), "PRESENTATION": str(write(tmp_path, "p.txt", presentation)),
             "DIRECTORY": str(tmp_path)}
    result = run(capsys, *[paths.get(a, a) for a in argv])
    assert (result.code, result.err["code"]) == (2, "cli.invalid_input")
    assert "cannot read" in result.err["reason"]


@pytest.mark.parametrize(
    "document",
    [
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        {"keys": "nope"},
        {"issuer": ISSUER, "jwks_uri": "https://tax.city-koto.example/jwks"},
        {"issuer": 42, "jwks": {"keys": []}},
        [1, 2],
        "just a string",
    ],
    ids=["hmac_key", "keys_not_array", "jwks_uri_only", "issuer_not_string", "array", "string"],
)
def test_unusable_jwks_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, presentation: str, document: object
) -> None:
    result = run(capsys, *verify_args(write(tmp_path, "p.txt", presentation), write(tmp_path, "jwks.json", document)))
    assert (result.code, result.out, result.err["code"]) == (2, None, "cli.invalid_input")


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["sd-jwt"], ["sd-jwt", "verify", "x"], ["keys", "generate", "--alg", "HS256"],
     ["sd-jwt", "verify", "x", "--issuer-jwks", "y", "--now", "yesterday"]],
    ids=["nothing", "unknown_command", "no_subcommand", "no_jwks", "hmac_alg", "bad_now"],
)
def test_usage_errors_are_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    result = run(capsys, *argv)
    assert (result.code, result.out, result.err["code"]) == (2, None, "cli.usage")


# --- the installed command, in a real process --------------------------------------------------


def _tsunagu(*args: str | Path, stdin: str | bytes = b"") -> subprocess.CompletedProcess[bytes]:
    executable = Path(sys.executable).with_name("tsunagu")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "tsunagu.cli"]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([*command, *map(str, args)], input=data, capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})


def test_subprocess_verify_from_stdin(
    tmp_path: Path, presentation: str, metadata: Path, credential: IssuedSdJwt, holder_key: PrivateJwk
) -> None:
    done = _tsunagu("sd-jwt", "verify", "-", "--issuer-jwks", metadata, "--require-kb", "--nonce", NONCE,
                    "--aud", VERIFIER, "--now", "2026-11-23T09:00:30Z", stdin=f"\n  {presentation}\n")
    assert (done.returncode, done.stderr) == (0, b"")
    out = json.loads(done.stdout.decode("utf-8"))  # UTF-8 even under LC_ALL=C
    assert out["claims"] == expected_claims(credential, holder_key, {"given_name": "MAI", "address": {"prefecture": "東京都", "city": "江東区"}})
    assert "江東区" in done.stdout.decode("utf-8")  # ensure_ascii=False: readable, not \\u escapes

    tampered = _tsunagu("sd-jwt", "verify", "-", "--issuer-jwks", metadata, "--now", "2026-11-23T09:00:30Z",
                        stdin=_resign_payload(presentation, {"fiscal_year": 2024}))
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["errors"][0]["code"] == "sd_jwt.issuer_signature_invalid"


def test_subprocess_garbage_and_missing_file_never_show_a_traceback(tmp_path: Path) -> None:
    for done in (
        _tsunagu("sd-jwt", "decode", "-", stdin=bytes(range(256))),
        _tsunagu("sd-jwt", "decode", tmp_path / "missing.txt"),
        _tsunagu("status-list", "read", "-", "--idx", "0", stdin="{\"bits\": 3, \"lst\": \"\"}"),
        _tsunagu("no-such-command"),
    ):
        assert done.returncode == 2, done
        assert done.stdout == b""
        assert b"Traceback" not in done.stderr
        assert set(json.loads(done.stderr)) == {"code", "reason"}


def test_subprocess_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tsunagu.cli", "--version"], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout.decode().startswith("tsunagu ")
