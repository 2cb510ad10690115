"""Hostile SD-JWTs (RFC 9901 §7, §9 and RFC 8725): each attack rejected with its typed error.

Every case builds a presentation that is valid except for one mutation, so a failure can only
come from the check under test. Cases that need a forged payload sign it with the real issuer
key: they model a buggy or malicious issuer, which the verifier must still refuse.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu import jose
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.errors import (
    ClaimMustNotBeDisclosable,
    ClaimNameCollision,
    CredentialExpired,
    CredentialNotYetValid,
    DisclosureNotReferenced,
    DisclosureTypeMismatch,
    DuplicateDigest,
    DuplicateDisclosure,
    IssuerSignatureInvalid,
    KbAudienceMismatch,
    KbIssuedAtOutOfWindow,
    KbJwtMalformed,
    KbJwtMissing,
    KbNonceMismatch,
    KbSdHashMismatch,
    KbSignatureInvalid,
    MalformedDisclosure,
    MalformedSdJwt,
    ReservedClaimName,
    SdJwtTooLarge,
    TsunaguError,
    UnexpectedTyp,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
    UnsupportedHashAlgorithm,
)
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.kb_jwt import TYP_KB_JWT, KbExpectation, KeyBindingRequest, create_kb_jwt
from tsunagu.sd_jwt.compact import SdJwt, parse_sd_jwt
from tsunagu.sd_jwt.disclosure import digest_of, make_disclosure
from tsunagu.sd_jwt_vc import verify_sd_jwt_vc

from ..conftest import NOW

NONCE = "XZOUco1u_gEPknxS78sWWg"
AUD = "x509_san_dns:bank.example"
EXPECT = KbExpectation(nonce=NONCE, aud=AUD)
ISSUER = generate_key("ES256", kid="tax-office")
HOLDER = generate_key("ES256")


@dataclass
class Parts:
    """A presentation under construction: header, payload, encoded disclosures, KB-JWT fields."""

    header: dict[str, Any]
    payload: dict[str, Any]
    disclosures: list[str]
    kb_header: dict[str, Any]
    kb_payload_overrides: dict[str, Any]
    signer: PrivateJwk = ISSUER
    kb_signer: PrivateJwk = HOLDER
    with_kb: bool = True

    def build(self) -> str:
        issuer_jwt = jose.assemble(
            jose.signing_input(self.header, self.payload), jose.sign(jose.signing_input(self.header, self.payload), self.signer)
        )
        sd_jwt = SdJwt(issuer_jwt=issuer_jwt, disclosures=tuple(self.disclosures))
        if not self.with_kb:
            return sd_jwt.serialize()
        kb_claims = {
            "iat": int(NOW.timestamp()),
            "aud": AUD,
            "nonce": NONCE,
            "sd_hash": digest_of(sd_jwt.without_kb),
            **self.kb_payload_overrides,
        }
        kb_input = jose.signing_input(self.kb_header, kb_claims)
        return sd_jwt.without_kb + jose.assemble(kb_input, jose.sign(kb_input, self.kb_signer))


def _valid_parts() -> Parts:
    """A tax-office credential with two disclosed claims, one nested."""
    fiscal = make_disclosure("fiscal_year", 2026)
    income = make_disclosure("total_income", 5_120_000)
    ward = make_disclosure("ward", "新宿区")
    municipality = make_disclosure("municipality", {"city": "東京都", "_sd": [ward.digest]})
    return Parts(
        header={"alg": "ES256", "typ": "dc+sd-jwt", "kid": "tax-office"},
        payload={
            "iss": "https://tax.city.shinjuku.example",
            "vct": "https://credentials.tsunagu.example/ResidentTaxCertificate",
            "iat": int(NOW.timestamp()) - 3600,
            "exp": int((NOW + timedelta(days=365)).timestamp()),
            "cnf": {"jwk": HOLDER.public.to_jwk()},
            "_sd": sorted([fiscal.digest, income.digest, municipality.digest]),
            "_sd_alg": "sha-256",
        },
        disclosures=[fiscal.encoded, income.encoded, municipality.encoded, ward.encoded],
        kb_header={"alg": "ES256", "typ": TYP_KB_JWT},
        kb_payload_overrides={},
    )


def _verify(presentation: str) -> object:
    return verify_sd_jwt_vc(presentation, issuer_key=ISSUER.public, kb=EXPECT, now=NOW)


def test_the_unmutated_case_is_accepted() -> None:
    """Guards the table: if this fails, every 'rejected' below proves nothing."""
    verified = verify_sd_jwt_vc(_valid_parts().build(), issuer_key=ISSUER.public, kb=EXPECT, now=NOW)
    assert verified.claims["municipality"] == {"city": "東京都", "ward": "新宿区"}
    assert verified.claims["total_income"] == 5_120_000


# --- mutations of the parts, before signing -------------------------------------------------


def _alg_none(p: Parts) -> str:
    header = {**p.header, "alg": "none"}
    return f"{b64url_encode(json_dumps(header).encode())}.{b64url_encode(json_dumps(p.payload).encode())}.~"


def _hs256_with_public_key(p: Parts) -> str:
    header = {**p.header, "alg": "HS256"}
    data = jose.signing_input(header, p.payload)
    secret = json_dumps(ISSUER.public.to_jwk()).encode()
    return jose.assemble(data, hmac.new(secret, data, hashlib.sha256).digest()) + "~"


def _set(path: str, value: Any) -> Callable[[Parts], None]:
    def mutate(p: Parts) -> None:
        target, _, name = path.rpartition(".")
        obj: Any = getattr(p, target)
        obj[name] = value

    return mutate


def _extra_disclosure(name: str | None, value: Any, *, reference: str | None) -> Callable[[Parts], None]:
    """Add a disclosure; ``reference`` says where its digest goes: ``_sd``, an array, or nowhere."""

    def mutate(p: Parts) -> None:
        d = make_disclosure(name, value) if name not in ("_sd", "...") else _raw_disclosure([b64url_encode(b"s" * 16), name, value])
        p.disclosures.append(d.encoded)
        if reference == "_sd":
            p.payload["_sd"] = sorted([*p.payload["_sd"], d.digest])
        elif reference == "array":
            p.payload["items"] = [{"...": d.digest}]

    return mutate


@dataclass(frozen=True)
class _Raw:
    encoded: str
    digest: str


def _raw_disclosure(array: list[Any]) -> _Raw:
    encoded = b64url_encode(json_dumps(array).encode())
    return _Raw(encoded, digest_of(encoded))


def _duplicate_digest(p: Parts) -> None:
    p.payload["_sd"] = [*p.payload["_sd"], p.payload["_sd"][0]]


def _digest_twice_across_levels(p: Parts) -> None:
    # The digest of "fiscal_year" also hidden inside the nested municipality object.
    fiscal_digest = digest_of(p.disclosures[0])
    ward = make_disclosure("ward", "新宿区")
    municipality = make_disclosure("municipality", {"city": "東京都", "_sd": [ward.digest, fiscal_digest]})
    p.disclosures[2:] = [municipality.encoded, ward.encoded]
    p.payload["_sd"] = sorted([fiscal_digest, digest_of(p.disclosures[1]), municipality.digest])


def _dots_in_object(p: Parts) -> None:
    p.payload["address"] = {"...": digest_of(p.disclosures[0]), "city": "x"}


def _collision(p: Parts) -> None:
    p.payload["fiscal_year"] = 2025


def _sd_not_array(p: Parts) -> None:
    p.payload["_sd"] = digest_of(p.disclosures[0])


def _too_deep(p: Parts) -> None:
    node: dict[str, Any] = {}
    p.payload["deep"] = node
    for _ in range(40):
        node["x"] = {}
        node = node["x"]


def _vct_disclosed(p: Parts) -> None:
    d = make_disclosure("vct", "https://credentials.tsunagu.example/ResidentTaxCertificate")
    del p.payload["vct"]
    p.payload["_sd"] = sorted([*p.payload["_sd"], d.digest])
    p.disclosures.append(d.encoded)


def _other_key_signs(p: Parts) -> None:
    p.signer = generate_key("ES256", kid="tax-office")


def _kb_other_key(p: Parts) -> None:
    p.kb_signer = generate_key("ES256")


def _no_kb(p: Parts) -> None:
    p.with_kb = False


PREPARED_CASES: list[tuple[str, Callable[[Parts], None], type[TsunaguError]]] = [
    ("wrong-typ", _set("header.typ", "JWT"), UnexpectedTyp),
    ("legacy-typ-not-accepted-by-default", _set("header.typ", "vc+sd-jwt"), UnexpectedTyp),
    ("unknown-crit", _set("header.crit", ["urn:example:must-understand"]), UnsupportedCriticalHeader),
    ("signed-by-another-key", _other_key_signs, IssuerSignatureInvalid),
    ("unsupported-sd-alg", _set("payload._sd_alg", "md5"), UnsupportedHashAlgorithm),
    ("unreferenced-disclosure", _extra_disclosure("nationality_region", "VN", reference=None), DisclosureNotReferenced),
    ("duplicate-digest", _duplicate_digest, DuplicateDigest),
    ("digest-twice-across-levels", _digest_twice_across_levels, DuplicateDigest),
    ("dots-inside-object", _dots_in_object, MalformedSdJwt),
    ("reserved-name-_sd-in-disclosure", _extra_disclosure("_sd", ["x"], reference="_sd"), ReservedClaimName),
    ("reserved-name-dots-in-disclosure", _extra_disclosure("...", "x", reference="_sd"), ReservedClaimName),
    ("claim-name-collision", _collision, ClaimNameCollision),
    ("array-disclosure-behind-_sd", _extra_disclosure(None, "x", reference="_sd"), DisclosureTypeMismatch),
    ("object-disclosure-in-array", _extra_disclosure("x", "y", reference="array"), DisclosureTypeMismatch),
    ("_sd-not-an-array", _sd_not_array, MalformedSdJwt),
    ("_sd-null", _set("payload._sd", None), MalformedSdJwt),  # found by the property test
    ("nesting-too-deep", _too_deep, SdJwtTooLarge),
    ("vct-selectively-disclosed", _vct_disclosed, ClaimMustNotBeDisclosable),
    ("status-sub-claim-disclosable", _set("payload.status", {"_sd": ["x" * 43]}), ClaimMustNotBeDisclosable),
    ("expired", _set("payload.exp", int((NOW - timedelta(days=1)).timestamp())), CredentialExpired),
    ("not-yet-valid", _set("payload.nbf", int((NOW + timedelta(days=1)).timestamp())), CredentialNotYetValid),
    ("issued-in-the-future", _set("payload.iat", int((NOW + timedelta(hours=1)).timestamp())), CredentialNotYetValid),
    ("exp-not-a-number", _set("payload.exp", "2030-01-01"), MalformedSdJwt),
    ("cnf-without-jwk", _set("payload.cnf", {"kid": "x"}), MalformedSdJwt),
    ("kb-missing-when-required", _no_kb, KbJwtMissing),
    ("kb-wrong-nonce", _set("kb_payload_overrides.nonce", "replayed-nonce"), KbNonceMismatch),
    ("kb-wrong-aud", _set("kb_payload_overrides.aud", "x509_san_dns:evil.example"), KbAudienceMismatch),
    ("kb-wrong-sd-hash", _set("kb_payload_overrides.sd_hash", digest_of("other~")), KbSdHashMismatch),
    ("kb-stale-iat", _set("kb_payload_overrides.iat", int((NOW - timedelta(hours=1)).timestamp())), KbIssuedAtOutOfWindow),
    ("kb-future-iat", _set("kb_payload_overrides.iat", int((NOW + timedelta(hours=1)).timestamp())), KbIssuedAtOutOfWindow),
    ("kb-iat-missing", _set("kb_payload_overrides.iat", None), KbJwtMalformed),
    ("kb-signed-by-other-key", _kb_other_key, KbSignatureInvalid),
    ("kb-wrong-typ", _set("kb_header.typ", "JWT"), KbJwtMalformed),
    ("kb-alg-none", _set("kb_header.alg", "none"), KbSignatureInvalid),
]


@pytest.mark.parametrize(("mutate", "error"), [c[1:] for c in PREPARED_CASES], ids=[c[0] for c in PREPARED_CASES])
def test_mutated_presentation_rejected(mutate: Callable[[Parts], None], error: type[TsunaguError]) -> None:
    parts = _valid_parts()
    mutate(parts)
    with pytest.raises(error):
        _verify(parts.build())


# --- mutations of the finished presentation string ------------------------------------------


def _tamper_disclosure(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    forged = make_disclosure("total_income", 9_999_999).encoded
    return SdJwt(sd.issuer_jwt, (sd.disclosures[0], forged, *sd.disclosures[2:]), sd.kb_jwt).serialize()


def _drop_disclosure_after_kb(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    return SdJwt(sd.issuer_jwt, sd.disclosures[:1] + sd.disclosures[2:], sd.kb_jwt).serialize()


def _duplicate_disclosure(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    return SdJwt(sd.issuer_jwt, (*sd.disclosures, sd.disclosures[0]), sd.kb_jwt).serialize()


def _flip_signature(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    head, payload, signature = sd.issuer_jwt.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return SdJwt(f"{head}.{payload}.{flipped}", sd.disclosures, sd.kb_jwt).serialize()


def _garbage_disclosure(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    return SdJwt(sd.issuer_jwt, (*sd.disclosures, "not*base64"), sd.kb_jwt).serialize()


def _disclosure_not_array(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    return SdJwt(sd.issuer_jwt, (*sd.disclosures, b64url_encode(b'{"a":1}')), sd.kb_jwt).serialize()


def _disclosure_four_elements(presentation: str) -> str:
    sd = parse_sd_jwt(presentation)
    return SdJwt(sd.issuer_jwt, (*sd.disclosures, b64url_encode(b'["s","a",1,2]')), sd.kb_jwt).serialize()


def _empty_disclosure(presentation: str) -> str:
    return presentation.replace("~", "~~", 1)


STRING_CASES: list[tuple[str, Callable[[str], str], type[TsunaguError]]] = [
    ("tampered-disclosure", _tamper_disclosure, DisclosureNotReferenced),
    ("disclosure-removed-after-kb", _drop_disclosure_after_kb, KbSdHashMismatch),
    ("duplicate-disclosure", _duplicate_disclosure, DuplicateDisclosure),
    ("issuer-signature-flipped", _flip_signature, IssuerSignatureInvalid),
    ("disclosure-not-base64url", _garbage_disclosure, MalformedDisclosure),
    ("disclosure-not-an-array", _disclosure_not_array, MalformedDisclosure),
    ("disclosure-four-elements", _disclosure_four_elements, MalformedDisclosure),
    ("empty-disclosure", _empty_disclosure, MalformedSdJwt),
    ("alg-none", lambda _: _alg_none(_valid_parts()), UnsupportedAlgorithm),
    ("hs256-keyed-with-public-key", lambda _: _hs256_with_public_key(_valid_parts()), UnsupportedAlgorithm),
    ("no-tilde", lambda p: p.split("~")[0], MalformedSdJwt),
    ("oversized", lambda p: p + "A" * 300_000, SdJwtTooLarge),
]


@pytest.mark.parametrize(("mutate", "error"), [c[1:] for c in STRING_CASES], ids=[c[0] for c in STRING_CASES])
def test_tampered_presentation_rejected(mutate: Callable[[str], str], error: type[TsunaguError]) -> None:
    with pytest.raises(error):
        _verify(mutate(_valid_parts().build()))


def test_replay_to_another_verifier_rejected() -> None:
    presentation = _valid_parts().build()
    with pytest.raises(KbAudienceMismatch):
        verify_sd_jwt_vc(
            presentation, issuer_key=ISSUER.public, kb=KbExpectation(NONCE, "x509_san_dns:landlord.example"), now=NOW
        )


def test_kb_jwt_freshness_window_is_the_policy(now: datetime) -> None:
    parts = _valid_parts()
    presentation = parts.build()
    with pytest.raises(KbIssuedAtOutOfWindow):
        verify_sd_jwt_vc(presentation, issuer_key=ISSUER.public, kb=EXPECT, now=NOW + timedelta(minutes=7))


def test_kb_jwt_created_by_the_library_covers_exactly_the_disclosures() -> None:
    parts = _valid_parts()
    parts.with_kb = False
    sd = parse_sd_jwt(parts.build())
    kb = create_kb_jwt(sd.without_kb, KeyBindingRequest(HOLDER, AUD, NONCE, NOW))
    assert _verify(sd.without_kb + kb) is not None
    fewer = SdJwt(sd.issuer_jwt, sd.disclosures[:1]).without_kb
    with pytest.raises(KbSdHashMismatch):
        _verify(fewer + kb)
