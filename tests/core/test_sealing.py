"""Secrets at rest open only with the same master key and the same binding (aad)."""

from __future__ import annotations

import os

import pytest

from tsunagu.sealing import SealedValueInvalid, seal, unseal

KEY = os.urandom(32)


def test_sealed_value_opens_with_the_same_key_and_aad() -> None:
    sealed = seal(KEY, b'{"kty":"EC"}', aad=b"issuer_key:1")
    assert unseal(KEY, sealed, aad=b"issuer_key:1") == b'{"kty":"EC"}'
    assert b"kty" not in sealed.encode()


def test_sealing_twice_gives_different_ciphertexts() -> None:
    assert seal(KEY, b"same", aad=b"a") != seal(KEY, b"same", aad=b"a")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s, k: (s, os.urandom(32), b"row:1"), id="other-master-key"),
        pytest.param(lambda s, k: (s, k, b"row:2"), id="copied-to-another-row"),
        pytest.param(lambda s, k: (s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1], k, b"row:1"), id="tampered"),
        pytest.param(lambda s, k: ("v2" + s[2:], k, b"row:1"), id="unknown-version"),
        pytest.param(lambda s, k: ("v1.%%%.abc", k, b"row:1"), id="not-base64url"),
        pytest.param(lambda s, k: ("v1.AAAA.AAAA", k, b"row:1"), id="short-nonce"),
        pytest.param(lambda s, k: ("garbage", k, b"row:1"), id="garbage"),
    ],
)
def test_sealed_value_refuses_to_open(mutate) -> None:  # type: ignore[no-untyped-def]
    sealed = seal(KEY, b"holder private key", aad=b"row:1")
    text, key, aad = mutate(sealed, KEY)
    with pytest.raises(SealedValueInvalid):
        unseal(key, text, aad=aad)
