"""One-time secrets: Pre-Authorized Codes, Transaction Codes, access tokens, nonces and ids.

Codes and tokens are stored as SHA-256 digests: a copy of the database gives no usable code. A
Transaction Code has only 10^6 values, so a plain digest would be reversed in a moment; it is
stored as an HMAC under the master key instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["new_secret", "digest", "new_tx_code", "tx_code_mac", "tx_code_matches"]


def new_secret() -> str:
    """256 random bits, base64url: codes, tokens, nonces and unguessable ids."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_tx_code(length: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


def tx_code_mac(master_key: bytes, offer_id: str, tx_code: str) -> str:
    return hmac.new(master_key, f"issuer tx_code\x00{offer_id}\x00{tx_code}".encode(), hashlib.sha256).hexdigest()


def tx_code_matches(master_key: bytes, offer_id: str, tx_code: str, stored_mac: str) -> bool:
    return hmac.compare_digest(tx_code_mac(master_key, offer_id, tx_code), stored_mac)
