"""The JWS JSON Serialization of SD-JWT (RFC 9901 §8): the printed examples, round trips, hostile input.

The §8 examples are data (tests/vectors/rfc9901/sec8-*.json, see SOURCE.md). The RFC prints no
processed payload for them, so the expected claims are computed here from what it does print:
the payload and the disclosures, decoded with the standard library only.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tsunagu.errors import (
    IssuerKeyNotFound,
    IssuerSignatureInvalid,
    KbIssuedAtOutOfWindow,
    KbJwtMissing,
    KbSdHashMismatch,
    MalformedSdJwt,
    SdJwtTooLarge,
    TsunaguError,
    UnexpectedTyp,
    UnsupportedAlgorithm,
)
from tsunagu.jwk import generate_key, parse_public_jwk
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.sd_jwt.compact import SdJwt, parse_sd_jwt
from tsunagu.sd_jwt.holder import present_sd_jwt
from tsunagu.sd_jwt.issuer import issue_sd_jwt
from tsunagu.sd_jwt.json_serialization import SdJwtJson, parse_sd_jwt_json, serialize_sd_jwt_json
from tsunagu.sd_jwt.verifier import VerifyPolicy, verify_sd_jwt
from tsunagu.sd_jwt_vc import issuer_key_resolver

from ..conftest import NOW

RFC9901 = Path(__file__).parent.parent / "vectors" / "rfc9901"
VECTORS = sorted(RFC9901.glob("sec8-*.json"))
KEYS = json.loads((RFC9901 / "keys.json").read_text())
#: The Appendix A.5 key, as printed (no kid).
ISSUER_KEY = parse_public_jwk(KEYS["issuer"]["public_jwk"])
ISSUER_KEY_1 = parse_public_jwk({**KEYS["issuer"]["public_jwk"], "kid": "issuer-key-1"})
ISSUER_KEY_2 = parse_public_jwk(KEYS["issuer_key_2"]["public_jwk"])
RFC_ISSUER = "https://issuer.example.com"


def _case(name: str) -> dict[str, Any]:
    return dict(json.loads((RFC9901 / f"{name}.json").read_text()))


def _b64json(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _jws_json(case: dict[str, Any]) -> dict[str, Any]:
    return dict(case["presentation"] or case["issued"])


def _first_header(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(obj["signatures"][0]["header"] if "signatures" in obj else obj["header"])


def _expected_claims(obj: dict[str, Any]) -> dict[str, Any]:
    """The printed payload without ``_sd``/``_sd_alg``, plus every printed disclosure (all are top level)."""
    payload = _b64json(obj["payload"])
    claims = {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg")}
    for disclosure in _first_header(obj).get("disclosures", []):
        _salt, name, value = _b64json(disclosure)
        claims[name] = value
    return claims


def _as_of(case: dict[str, Any]) -> datetime:
    if case["key_binding"]:
        return datetime.fromtimestamp(case["key_binding"]["iat"], tz=timezone.utc)
    return datetime(2026, 1, 1, tzinfo=timezone.utc)


def _kb(case: dict[str, Any]) -> KbExpectation | None:
    kb = case["key_binding"]
    return KbExpectation(nonce=kb["nonce"], aud=kb["aud"]) if kb else None


def _both_keys() -> Any:
    return issuer_key_resolver(RFC_ISSUER, [ISSUER_KEY_1, ISSUER_KEY_2])


def _issuer_key_for(case: dict[str, Any]) -> Any:
    """Flattened examples carry no kid: the A.5 key. General: pick by the unprotected kid."""
    return _both_keys() if "signatures" in _jws_json(case) else ISSUER_KEY


# --- the printed examples -------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_printed_json_example_verifies_to_its_printed_claims(vector: Path) -> None:
    case = json.loads(vector.read_text())
    obj = _jws_json(case)
    verified = verify_sd_jwt(
        obj, issuer_key=_issuer_key_for(case), kb=_kb(case), now=_as_of(case), policy=VerifyPolicy(typ=(case["typ"],))
    )
    assert verified.claims == _expected_claims(obj)
    assert verified.header == {"alg": "ES256", "typ": case["typ"]}
    if case["key_binding"]:
        assert verified.key_binding is not None
        assert verified.key_binding.sd_hash == case["kb_jwt_payload"]["sd_hash"]
    else:
        assert verified.key_binding is None


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_printed_json_example_verifies_as_text(vector: Path) -> None:
    case = json.loads(vector.read_text())
    text = "\n  " + json.dumps(_jws_json(case), indent=2)
    verified = verify_sd_jwt(
        text, issuer_key=_issuer_key_for(case), kb=_kb(case), now=_as_of(case), policy=VerifyPolicy(typ=(case["typ"],))
    )
    assert verified.claims == _expected_claims(_jws_json(case))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_sd_hash_is_over_the_first_signatures_compact_form(vector: Path) -> None:
    """RFC 9901 §8.1: ``<protected>.<payload>.<signature>~<D1>~...~``, with the first signature (§8.3)."""
    case = json.loads(vector.read_text())
    obj = _jws_json(case)
    first = obj["signatures"][0] if "signatures" in obj else obj
    expected = SdJwt(
        issuer_jwt=f"{first['protected']}.{obj['payload']}.{first['signature']}",
        disclosures=tuple(_first_header(obj)["disclosures"]),
        kb_jwt=_first_header(obj).get("kb_jwt"),
    )
    assert parse_sd_jwt_json(obj).to_compact() == expected


def test_printed_flattened_example_is_what_the_compact_form_serializes_to() -> None:
    obj = _jws_json(_case("sec8-2-json-flattened-kb"))
    compact = parse_sd_jwt_json(obj).to_compact()
    assert serialize_sd_jwt_json(compact) == obj
    assert serialize_sd_jwt_json(parse_sd_jwt(compact.serialize())) == obj


def test_general_example_parses_into_two_signatures_with_the_sd_jwt_members_lifted_out() -> None:
    obj = _jws_json(_case("sec8-3-json-general-kb"))
    parsed = parse_sd_jwt_json(obj)
    assert parsed.general
    assert [s.header for s in parsed.signatures] == [{"kid": "issuer-key-1"}, {"kid": "issuer-key-2"}]
    assert parsed.disclosures == tuple(obj["signatures"][0]["header"]["disclosures"])
    assert parsed.kb_jwt == obj["signatures"][0]["header"]["kb_jwt"]


# --- the multi-signature policy (verify_sd_jwt docstring) -----------------------------------


GENERAL = _case("sec8-3-json-general-kb")
GENERAL_KB = _kb(GENERAL)
GENERAL_NOW = _as_of(GENERAL)
EXAMPLE_POLICY = VerifyPolicy(typ=("example+sd-jwt",))


@pytest.mark.parametrize(
    "issuer_key",
    [
        pytest.param(issuer_key_resolver(RFC_ISSUER, [ISSUER_KEY_1]), id="resolver-knows-only-key-1"),
        pytest.param(issuer_key_resolver(RFC_ISSUER, [ISSUER_KEY_2]), id="resolver-knows-only-key-2"),
        pytest.param(ISSUER_KEY_1, id="fixed-key-1-with-kid"),
        pytest.param(ISSUER_KEY_2, id="fixed-key-2-with-kid"),
    ],
)
def test_general_serialization_needs_one_signature_the_verifier_can_check(issuer_key: Any) -> None:
    verified = verify_sd_jwt(
        _jws_json(GENERAL), issuer_key=issuer_key, kb=GENERAL_KB, now=GENERAL_NOW, policy=EXAMPLE_POLICY
    )
    assert verified.claims == _expected_claims(_jws_json(GENERAL))
    # The KB-JWT binds the first signature's form even when only the second was checked.
    assert verified.key_binding is not None
    assert verified.sd_jwt == parse_sd_jwt_json(_jws_json(GENERAL)).to_compact(0)


def test_fixed_key_without_kid_checks_every_signature_and_the_second_fails() -> None:
    """A kid-less key cannot tell the signatures apart, so it is tried on both: the other signer's fails."""
    with pytest.raises(IssuerSignatureInvalid):
        verify_sd_jwt(_jws_json(GENERAL), issuer_key=ISSUER_KEY, kb=GENERAL_KB, now=GENERAL_NOW, policy=EXAMPLE_POLICY)


def test_no_signature_by_a_known_key_is_rejected() -> None:
    stranger = generate_key("ES256", kid="stranger").public
    with pytest.raises(IssuerKeyNotFound):
        verify_sd_jwt(
            _jws_json(GENERAL),
            issuer_key=issuer_key_resolver(RFC_ISSUER, [stranger]),
            kb=GENERAL_KB,
            now=GENERAL_NOW,
            policy=EXAMPLE_POLICY,
        )


def test_unknown_members_are_ignored() -> None:
    """RFC 7515 §7.2.1: members that are not understood MUST be ignored."""
    obj = copy.deepcopy(_jws_json(GENERAL))
    obj["x-note"] = "ignored"
    obj["signatures"][1]["header"]["x5u"] = "https://attacker.example/keys"
    verified = verify_sd_jwt(obj, issuer_key=_both_keys(), kb=GENERAL_KB, now=GENERAL_NOW, policy=EXAMPLE_POLICY)
    assert verified.claims == _expected_claims(_jws_json(GENERAL))


# --- round trip: compact -> JSON -> verify ---------------------------------------------------


@pytest.mark.parametrize("general", [False, True], ids=["flattened", "general"])
@pytest.mark.parametrize("with_kb", [False, True], ids=["sd-jwt", "sd-jwt+kb"])
def test_compact_to_json_round_trip_verifies_like_the_compact_form(general: bool, with_kb: bool) -> None:
    issuer, holder = generate_key("ES256", kid="city-hall"), generate_key("EdDSA")
    issued = issue_sd_jwt(
        {
            "iss": "https://city.example",
            "iat": int(NOW.timestamp()) - 60,
            "cnf": {"jwk": holder.public.to_jwk()},
            "given_name": "花子",
            "address": {"locality": "新宿区", "country": "JP"},
        },
        key=issuer,
        header={"typ": "example+sd-jwt"},
        selectively_disclosable=[("given_name",), ("address",), ("address", "locality")],
        decoys=2,
    )
    expect = KbExpectation(nonce="n-0S6_WzA2Mj", aud="https://verifier.example")
    request = KeyBindingRequest(holder_key=holder, aud=expect.aud, nonce=expect.nonce, iat=NOW)
    compact = present_sd_jwt(issued.compact, [("address", "locality")], key_binding=request if with_kb else None)
    policy = VerifyPolicy(typ=("example+sd-jwt",))
    kb = expect if with_kb else None

    obj = serialize_sd_jwt_json(parse_sd_jwt(compact), general=general)
    assert ("signatures" in obj) is general
    assert parse_sd_jwt_json(obj).to_compact() == parse_sd_jwt(compact)
    from_compact = verify_sd_jwt(compact, issuer_key=issuer.public, kb=kb, now=NOW, policy=policy)
    for presentation in (obj, json.dumps(obj)):
        from_json = verify_sd_jwt(presentation, issuer_key=issuer.public, kb=kb, now=NOW, policy=policy)
        assert from_json.claims == from_compact.claims == {
            "iss": "https://city.example",
            "iat": int(NOW.timestamp()) - 60,
            "cnf": {"jwk": holder.public.to_jwk()},
            "address": {"locality": "新宿区", "country": "JP"},
        }
        assert from_json.key_binding == from_compact.key_binding


def test_json_without_disclosures_member_is_an_sd_jwt_without_disclosures() -> None:
    obj = copy.deepcopy(_jws_json(_case("sec8-2-json-flattened-issued")))
    del obj["header"]
    assert parse_sd_jwt_json(obj) == SdJwtJson(
        payload_b64=obj["payload"],
        signatures=parse_sd_jwt_json(obj).signatures,
        disclosures=(),
    )
    verified = verify_sd_jwt(
        obj, issuer_key=ISSUER_KEY, kb=None, now=datetime(2026, 1, 1, tzinfo=timezone.utc), policy=EXAMPLE_POLICY
    )
    assert set(verified.claims) == {"iss", "iat", "exp", "cnf"}


def test_compact_that_is_not_a_jws_cannot_be_serialized() -> None:
    with pytest.raises(MalformedSdJwt):
        serialize_sd_jwt_json(SdJwt(issuer_jwt="not-a-jws", disclosures=()))


# --- hostile input --------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        node: Any = obj
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        return obj

    return mutate


def _delete(path: tuple[Any, ...]) -> Mutation:
    def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        node: Any = obj
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
        return obj

    return mutate


def _move_to_second_signature(name: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        obj["signatures"][1]["header"][name] = obj["signatures"][0]["header"].pop(name)
        return obj

    return mutate


def _copy_to_second_signature(name: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        obj["signatures"][1]["header"][name] = obj["signatures"][0]["header"][name]
        return obj

    return mutate


def _alter_payload(obj: dict[str, Any]) -> dict[str, Any]:
    payload = _b64json(obj["payload"])
    payload["exp"] += 10 * 365 * 24 * 3600
    obj["payload"] = _b64(payload)
    return obj


def _flattened_and_general(obj: dict[str, Any]) -> dict[str, Any]:
    first = obj["signatures"][0]
    obj.update(protected=first["protected"], signature=first["signature"])
    return obj


def _protected(index: int, header: dict[str, Any]) -> Mutation:
    return _set(("signatures", index, "protected"), _b64(header))


def _tamper_signature(index: int) -> Mutation:
    def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        sig = obj["signatures"][index]["signature"]
        obj["signatures"][index]["signature"] = ("A" if sig[0] != "A" else "B") + sig[1:]
        return obj

    return mutate


def _drop_a_disclosure(obj: dict[str, Any]) -> dict[str, Any]:
    obj["signatures"][0]["header"]["disclosures"].pop()
    return obj


def _too_many_signatures(obj: dict[str, Any]) -> dict[str, Any]:
    obj["signatures"] += [copy.deepcopy(obj["signatures"][1]) for _ in range(8)]
    return obj


def _old_layout(obj: dict[str, Any]) -> dict[str, Any]:
    obj["disclosures"] = obj["signatures"][0]["header"].pop("disclosures")
    return obj


FIRST = ("signatures", 0, "header")
SECOND = ("signatures", 1, "header")

HOSTILE: list[tuple[str, Mutation, type[TsunaguError]]] = [
    ("not-json-text", lambda obj: "{" + json.dumps(obj), MalformedSdJwt),
    ("duplicate-member-text", lambda obj: '{"payload": "e30", ' + json.dumps(obj)[1:], MalformedSdJwt),
    ("disclosures-not-an-array", _set((*FIRST, "disclosures"), "WyJzYWx0IiwgIm4iLCAidiJd"), MalformedSdJwt),
    ("disclosures-with-a-number", _set((*FIRST, "disclosures"), [42]), MalformedSdJwt),
    ("disclosure-with-tilde", _set((*FIRST, "disclosures"), ["WyJzYWx0~IiwgIm4iLCAidiJd"]), MalformedSdJwt),
    ("disclosures-in-second-header-only", _move_to_second_signature("disclosures"), MalformedSdJwt),
    ("disclosures-in-second-header-too", _copy_to_second_signature("disclosures"), MalformedSdJwt),
    ("kb-jwt-in-second-header-only", _move_to_second_signature("kb_jwt"), MalformedSdJwt),
    ("kb-jwt-in-second-header-too", _copy_to_second_signature("kb_jwt"), MalformedSdJwt),
    ("kb-jwt-not-a-string", _set((*FIRST, "kb_jwt"), {"alg": "none"}), MalformedSdJwt),
    ("kb-jwt-not-a-jws", _set((*FIRST, "kb_jwt"), "eyJhbGciOiJub25lIn0"), MalformedSdJwt),
    ("disclosures-at-top-level-pre-09", _old_layout, MalformedSdJwt),
    ("no-signatures", _set(("signatures",), []), MalformedSdJwt),
    ("signatures-not-an-array", _set(("signatures",), {"0": {}}), MalformedSdJwt),
    ("signature-entry-not-an-object", _set(("signatures", 1), "sig"), MalformedSdJwt),
    ("neither-signatures-nor-signature", _delete(("signatures",)), MalformedSdJwt),
    ("flattened-and-general-members", _flattened_and_general, MalformedSdJwt),
    ("too-many-signatures", _too_many_signatures, SdJwtTooLarge),
    ("no-payload-detached", _delete(("payload",)), MalformedSdJwt),
    ("payload-not-base64url", _set(("payload",), "eyJ.pc3MiOiJ4In0"), MalformedSdJwt),
    ("payload-mismatch", _alter_payload, IssuerSignatureInvalid),
    ("no-protected-header", _delete(("signatures", 1, "protected")), MalformedSdJwt),
    ("protected-header-missing-alg", _protected(0, {"typ": "example+sd-jwt"}), MalformedSdJwt),
    ("alg-only-unprotected", lambda o: _set((*SECOND, "alg"), "ES256")(_protected(1, {"typ": "x"})(o)), MalformedSdJwt),
    ("alg-protected-and-unprotected", _set((*FIRST, "alg"), "ES256"), MalformedSdJwt),
    ("crit-unprotected", _set((*SECOND, "crit"), ["exp"]), MalformedSdJwt),
    ("unprotected-header-not-an-object", _set(("signatures", 1, "header"), ["kid"]), MalformedSdJwt),
    ("protected-header-not-json", _set(("signatures", 1, "protected"), "bm90IGpzb24"), MalformedSdJwt),
    ("alg-none-in-unresolved-signature", _protected(1, {"alg": "none", "typ": "example+sd-jwt"}), UnsupportedAlgorithm),
    ("typ-changed-in-second-signature", _protected(1, {"alg": "ES256", "typ": "jwt"}), UnexpectedTyp),
    ("first-signature-tampered", _tamper_signature(0), IssuerSignatureInvalid),
    ("second-signature-tampered", _tamper_signature(1), IssuerSignatureInvalid),
    ("second-kid-relabelled-to-key-1", _set((*SECOND, "kid"), "issuer-key-1"), IssuerSignatureInvalid),
    ("kb-jwt-stripped", _delete((*FIRST, "kb_jwt")), KbJwtMissing),
    ("disclosure-dropped-after-kb", _drop_a_disclosure, KbSdHashMismatch),
]


def test_the_unmutated_general_example_is_accepted() -> None:
    """Guards the table: if this fails, every 'rejected' below proves nothing."""
    verify_sd_jwt(_jws_json(GENERAL), issuer_key=_both_keys(), kb=GENERAL_KB, now=GENERAL_NOW, policy=EXAMPLE_POLICY)


@pytest.mark.parametrize(("mutation", "error"), [(m, e) for _, m, e in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_json_serialization_is_rejected(mutation: Mutation, error: type[TsunaguError]) -> None:
    presentation = mutation(copy.deepcopy(_jws_json(GENERAL)))
    with pytest.raises(error):
        verify_sd_jwt(presentation, issuer_key=_both_keys(), kb=GENERAL_KB, now=GENERAL_NOW, policy=EXAMPLE_POLICY)


def test_oversized_json_text_is_refused_before_parsing() -> None:
    text = json.dumps(_jws_json(GENERAL))
    with pytest.raises(SdJwtTooLarge):
        verify_sd_jwt(
            text, issuer_key=_both_keys(), kb=GENERAL_KB, now=GENERAL_NOW, policy=VerifyPolicy(max_bytes=len(text) - 1)
        )


def test_oversized_json_object_is_refused() -> None:
    obj = _jws_json(GENERAL)
    with pytest.raises(SdJwtTooLarge):
        parse_sd_jwt_json(obj, max_bytes=len(obj["payload"]))


def test_too_many_disclosures_are_refused() -> None:
    with pytest.raises(SdJwtTooLarge):
        parse_sd_jwt_json(_jws_json(GENERAL), max_disclosures=1)


@pytest.mark.parametrize("document", [[], "[]", "null", 7], ids=["list", "list-text", "null-text", "number"])
def test_json_that_is_not_an_object_is_malformed(document: Any) -> None:
    with pytest.raises(MalformedSdJwt):
        parse_sd_jwt_json(document)


def test_flattened_with_kb_verifies_only_within_the_kb_window() -> None:
    case = _case("sec8-2-json-flattened-kb")
    with pytest.raises(KbIssuedAtOutOfWindow):
        later = _as_of(case) + timedelta(days=1)
        verify_sd_jwt(_jws_json(case), issuer_key=ISSUER_KEY, kb=_kb(case), now=later, policy=EXAMPLE_POLICY)
