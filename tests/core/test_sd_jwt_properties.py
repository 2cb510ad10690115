"""Properties: issue → present(any subset) → verify gives exactly that subset; junk gives typed errors only."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsunagu import jose
from tsunagu.encoding import b64url_encode, json_dumps
from tsunagu.errors import TsunaguError
from tsunagu.jwk import generate_key
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.sd_jwt.issuer import issue_sd_jwt
from tsunagu.sd_jwt.verifier import verify_sd_jwt
from tsunagu.sd_jwt_vc import all_claim_paths, verify_sd_jwt_vc

from ..conftest import NOW

ISSUER = generate_key("ES256")
HOLDER = generate_key("ES256")
RESERVED = {"_sd", "...", "_sd_alg", "cnf"}

names = st.text(min_size=1, max_size=12).filter(lambda s: s not in RESERVED)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20) | st.floats(
    allow_nan=False, allow_infinity=False
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4), max_leaves=12
)
claim_sets = st.dictionaries(names, json_values, min_size=1, max_size=8)

quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(claims=claim_sets, data=st.data())
def test_any_subset_round_trips(claims: dict[str, Any], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(sorted(claims)), unique=True), label="disclosed")
    issued = issue_sd_jwt(
        {**claims, "cnf": {"jwk": HOLDER.public.to_jwk()}},
        key=ISSUER,
        selectively_disclosable=all_claim_paths(claims),
        decoys=data.draw(st.integers(0, 2), label="decoys"),
    )
    presentation = present_sd_jwt(
        issued.compact, [(name,) for name in chosen], key_binding=KeyBindingRequest(HOLDER, "aud", "nonce", NOW)
    )
    verified = verify_sd_jwt(presentation, issuer_key=ISSUER.public, kb=KbExpectation("nonce", "aud"), now=NOW)
    assert verified.claims == {"cnf": {"jwk": HOLDER.public.to_jwk()}, **{name: claims[name] for name in chosen}}


@quick
@given(claims=claim_sets)
def test_holder_sees_everything_it_was_issued(claims: dict[str, Any]) -> None:
    issued = issue_sd_jwt(claims, key=ISSUER, selectively_disclosable=all_claim_paths(claims), decoys=1)
    assert decode_sd_jwt(issued.compact).claims == claims


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_raises_only_typed_errors(text: str) -> None:
    for attempt in (
        lambda: verify_sd_jwt(text, issuer_key=ISSUER.public, kb=KbExpectation("n", "a"), now=NOW),
        lambda: verify_sd_jwt_vc(text, issuer_key=ISSUER.public, kb=None, now=NOW),
        lambda: decode_sd_jwt(text),
    ):
        try:
            attempt()
        except TsunaguError:
            pass


@quick
@given(
    payload=st.dictionaries(st.sampled_from(["_sd", "...", "_sd_alg", "cnf", "exp", "a", "b"]), json_values, max_size=6),
    disclosures=st.lists(json_values, max_size=4),
)
def test_signed_arbitrary_json_raises_only_typed_errors(payload: dict[str, Any], disclosures: list[Any]) -> None:
    """A signed payload reaches the digest processing: whatever its shape, only typed errors escape."""
    issuer_jwt = jose.sign_compact({"typ": "dc+sd-jwt"}, payload, ISSUER)
    encoded = [b64url_encode(json_dumps(d).encode()) for d in disclosures]
    presentation = "~".join([issuer_jwt, *encoded, ""])
    try:
        verify_sd_jwt_vc(presentation, issuer_key=ISSUER.public, kb=None, now=NOW)
    except TsunaguError:
        pass
