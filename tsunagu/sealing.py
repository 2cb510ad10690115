"""Sealing secrets at rest: AES-256-GCM under the deployment's master key.

Issuer signing keys, verifier request-signing keys, and the wallet's holder keys and credentials
are stored sealed. The ``aad`` binds a sealed value to where it belongs (a table and row id), so a
sealed key copied into another row does not open there.

Format: ``v1.<b64url nonce>.<b64url ciphertext+tag>``; the version leaves room for re-sealing
under a new master key.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .encoding import b64url_decode, b64url_encode
from .errors import EncodingError, TsunaguError

__all__ = ["SealedValueInvalid", "seal", "unseal"]

_VERSION: Final = "v1"
_NONCE_BYTES: Final = 12


class SealedValueInvalid(TsunaguError):
    """A sealed value that does not open: wrong master key, wrong ``aad``, or tampered."""

    code = "sealing.invalid"


def seal(master_key: bytes, plaintext: bytes, *, aad: bytes) -> str:
    """Encrypt ``plaintext`` under ``master_key`` (32 bytes), authenticated together with ``aad``."""
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(master_key).encrypt(nonce, plaintext, aad)
    return f"{_VERSION}.{b64url_encode(nonce)}.{b64url_encode(ciphertext)}"


def unseal(master_key: bytes, sealed: str, *, aad: bytes) -> bytes:
    """The plaintext of a value made by :func:`seal` with the same key and ``aad``.

    Raises:
        SealedValueInvalid: unknown format, wrong key or ``aad``, or the value was altered.
    """
    version, _, rest = sealed.partition(".")
    nonce_text, _, ciphertext_text = rest.partition(".")
    if version != _VERSION or not nonce_text or not ciphertext_text:
        raise SealedValueInvalid("the stored secret is not in a format this version can open")
    try:
        nonce = b64url_decode(nonce_text)
        ciphertext = b64url_decode(ciphertext_text)
    except EncodingError as exc:
        raise SealedValueInvalid("the stored secret is not valid base64url") from exc
    if len(nonce) != _NONCE_BYTES:
        raise SealedValueInvalid("the stored secret has a malformed nonce")
    try:
        return AESGCM(master_key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise SealedValueInvalid(
            "the stored secret does not open: the master key changed, or the value was altered"
        ) from exc
