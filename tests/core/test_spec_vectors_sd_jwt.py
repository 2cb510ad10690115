"""The SD-JWT examples of RFC 9901 and the SD-JWT VC draft, verified as printed.

The vectors are data (tests/vectors/rfc9901, tests/vectors/sd_jwt_vc; see each SOURCE.md).
The examples were signed in 2023–2026, so each test verifies "as of" the example's own
key-binding time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tsunagu.jwk import PublicJwk, parse_public_jwk
from tsunagu.kb_jwt import KbExpectation
from tsunagu.sd_jwt.disclosure import digest_of, parse_disclosure, parse_disclosures
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.sd_jwt.verifier import VerifyPolicy, reconstruct_claims, verify_sd_jwt
from tsunagu.sd_jwt_vc import issuer_key_resolver, parse_issuer_metadata, verify_sd_jwt_vc

VECTORS = Path(__file__).parent.parent / "vectors"


def _load(folder: str) -> list[Path]:
    return sorted(p for p in (VECTORS / folder).glob("*.json") if p.stem != "keys")


def _issuer_key(folder: str) -> PublicJwk:
    keys = json.loads((VECTORS / folder / "keys.json").read_text())
    return parse_public_jwk(keys["issuer"]["public_jwk"])


def _as_of(case: dict[str, Any]) -> datetime:
    """The example's own 'now': its KB-JWT's iat, or a moment inside the credential's validity."""
    if case.get("key_binding"):
        return datetime.fromtimestamp(case["key_binding"]["iat"], tz=timezone.utc)
    return datetime(2026, 1, 1, tzinfo=timezone.utc)


def _kb(case: dict[str, Any]) -> KbExpectation | None:
    kb = case.get("key_binding")
    return KbExpectation(nonce=kb["nonce"], aud=kb["aud"]) if kb else None


COMPACT = [p for folder in ("rfc9901", "sd_jwt_vc") for p in _load(folder) if json.loads(p.read_text()).get("serialization") == "compact"]


@pytest.mark.parametrize("vector", COMPACT, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_printed_presentation_verifies_to_the_printed_claims(vector: Path) -> None:
    case = json.loads(vector.read_text())
    if case["presentation"] is None:
        pytest.fail(f"{vector.name} has no presentation; it belongs in another test")
    policy = VerifyPolicy(typ=(case["typ"],))
    verified = verify_sd_jwt(
        case["presentation"], issuer_key=_issuer_key(vector.parent.name), kb=_kb(case), now=_as_of(case), policy=policy
    )
    assert verified.claims == case["expected_claims"]
    if case.get("key_binding"):
        assert verified.key_binding is not None
        assert verified.key_binding.sd_hash == case["kb_jwt_payload"]["sd_hash"]


@pytest.mark.parametrize(
    "vector", [p for p in COMPACT if json.loads(p.read_text())["issued"]], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_printed_issued_sd_jwt_holds_the_input_claims(vector: Path) -> None:
    case = json.loads(vector.read_text())
    verified = verify_sd_jwt(
        case["issued"],
        issuer_key=_issuer_key(vector.parent.name),
        kb=None,
        now=_as_of(case),
        policy=VerifyPolicy(typ=(case["typ"],)),
    )
    expected = case.get("expected_issued_claims") or case.get("input_claims")
    assert expected, "the vector must say what the issued SD-JWT holds"
    assert {name: verified.claims[name] for name in expected} == expected
    assert decode_sd_jwt(case["issued"]).claims == verified.claims


@pytest.mark.parametrize(
    "vector",
    [p for p in COMPACT if json.loads(p.read_text())["typ"] == "dc+sd-jwt"],
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_sd_jwt_vc_examples_pass_the_vc_rules(vector: Path) -> None:
    case = json.loads(vector.read_text())
    verified = verify_sd_jwt_vc(
        case["presentation"], issuer_key=_issuer_key(vector.parent.name), kb=_kb(case), now=_as_of(case)
    )
    assert verified.vct == case["expected_claims"]["vct"]


@pytest.mark.parametrize("vector", [p for p in _load("rfc9901") if p.stem.startswith("sec6")], ids=lambda p: p.stem)
def test_payload_and_disclosures_of_section_6_give_the_input_claims(vector: Path) -> None:
    case = json.loads(vector.read_text())
    disclosures = parse_disclosures([d["disclosure"] for d in case["disclosures"]])
    claims = reconstruct_claims(case["sd_jwt_payload"], disclosures)
    assert {name: claims[name] for name in case["input_claims"]} == case["input_claims"]


def test_section_4_2_disclosure_examples() -> None:
    case = json.loads((VECTORS / "rfc9901" / "sec4-2-disclosure-examples.json").read_text())
    examples = [e for e in case["disclosures"] if "disclosure" in e]
    assert examples
    for example in examples:
        disclosure = parse_disclosure(example["disclosure"])
        assert disclosure.digest == example["sha256"] == digest_of(example["disclosure"])
        assert [disclosure.salt, *([disclosure.name] if disclosure.name else []), disclosure.value] == example["contents"]


def test_sd_jwt_vc_issuer_metadata_example_resolves_the_key() -> None:
    keys = json.loads((VECTORS / "sd_jwt_vc" / "keys.json").read_text())
    case = json.loads((VECTORS / "sd_jwt_vc" / "s2-3-identity-credential.json").read_text())
    iss = case["expected_claims"]["iss"]
    documents = keys["jwt_vc_issuer_metadata_examples"]
    document = next(d for d in (documents if isinstance(documents, list) else documents.values()) if "jwks" in str(d))
    document = document.get("document", document)
    metadata = parse_issuer_metadata({**document, "issuer": iss}, expected_issuer=iss)
    assert metadata.jwks is not None
    verified = verify_sd_jwt_vc(
        case["presentation"], issuer_key=issuer_key_resolver(iss, metadata.jwks), kb=_kb(case), now=_as_of(case)
    )
    assert verified.iss == iss


def test_stale_example_kb_jwt_is_refused_today() -> None:
    """The same printed presentation, checked a day later, fails the freshness window."""
    case = json.loads((VECTORS / "rfc9901" / "sec5-example.json").read_text())
    from tsunagu.errors import KbIssuedAtOutOfWindow

    with pytest.raises(KbIssuedAtOutOfWindow):
        verify_sd_jwt(
            case["presentation"],
            issuer_key=_issuer_key("rfc9901"),
            kb=_kb(case),
            now=_as_of(case) + timedelta(days=1),
            policy=VerifyPolicy(typ=("example+sd-jwt",)),
        )
