"""The resident's credentials at rest: sealed copies, what they say, and using a copy once.

A credential is kept as one or more copies (batch issuance), each an SD-JWT VC bound to its own
holder key. Both the credential and the key are sealed under the master key with an ``aad`` that
names the copy's row and resident. What a credential says is never stored in the clear: it is
decoded from a copy's own disclosures when the resident looks (``tsunagu.decode_sd_jwt``).
A copy is shown to one verifier only, claimed with one conditional UPDATE, so two presentations
can never carry the same holder key or the same issuer signature.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from tsunagu.claims_path import ClaimsPath
from tsunagu.encoding import json_dumps, json_loads
from tsunagu.jwk import PrivateJwk, parse_private_jwk
from tsunagu.sd_jwt.holder import DecodedSdJwt, decode_sd_jwt
from tsunagu.sealing import seal, unseal

from ..errors import NoUnusedCopy, NotFound
from ..settings import WalletSettings
from ..tables import WalletCredential, WalletCredentialCopy, WalletCredentialStatus
from tsunagu.service.database import utc
from tsunagu.status_list import StatusReference

__all__ = [
    "REGISTERED_CLAIMS",
    "IssuedCopy",
    "Held",
    "store_credential",
    "list_held",
    "get_held",
    "open_copy",
    "claim_unused_copy",
    "claim_name",
    "encode_status_references",
]

#: SD-JWT VC registered claims: about the credential, not about the resident; not listed as its claims.
REGISTERED_CLAIMS = frozenset({"iss", "nbf", "exp", "iat", "cnf", "vct", "vct#integrity", "status", "_sd_alg"})


@dataclass(frozen=True, slots=True)
class IssuedCopy:
    credential: str
    holder_key: PrivateJwk
    #: The copy's own ``status.status_list`` entry, when the issuer publishes a status for it.
    status: StatusReference | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """A credential as the resident sees it: the row, its decoded claims, and unused copies left."""

    row: WalletCredential
    decoded: DecodedSdJwt
    copies: int
    copies_left: int
    display: Mapping[str, Any]

    @property
    def claims(self) -> dict[str, Any]:
        return {k: v for k, v in self.decoded.claims.items() if k not in REGISTERED_CLAIMS}


def _aad(copy_id: str, resident_id: str, what: str) -> bytes:
    return f"wallet_credential_copy:{copy_id}:{resident_id}:{what}".encode()


def store_credential(
    session: Session,
    settings: WalletSettings,
    resident_id: str,
    *,
    credential_issuer: str,
    iss: str,
    credential_configuration_id: str,
    vct: str,
    display: Mapping[str, Any],
    iat: datetime | None,
    exp: datetime | None,
    copies: Sequence[IssuedCopy],
    now: datetime,
) -> WalletCredential:
    """Add a credential, its copies (sealed) and their status references, in one transaction (committed here).

    The status itself is unknown until the first check (``services.status``).
    """
    row = WalletCredential(
        id=secrets.token_hex(16), resident_id=resident_id, credential_issuer=credential_issuer, iss=iss,
        credential_configuration_id=credential_configuration_id, vct=vct, display=json_dumps(dict(display)),
        iat=utc(iat) if iat else None, exp=utc(exp) if exp else None, received_at=utc(now),
    )
    session.add(row)
    for copy in copies:
        copy_id = secrets.token_hex(16)
        key_json = json_dumps(copy.holder_key.to_jwk(include_private=True)).encode()
        session.add(WalletCredentialCopy(
            id=copy_id, credential_id=row.id, resident_id=resident_id,
            sealed_credential=seal(settings.master_key_bytes, copy.credential.encode(),
                                   aad=_aad(copy_id, resident_id, "credential")),
            sealed_holder_key=seal(settings.master_key_bytes, key_json, aad=_aad(copy_id, resident_id, "holder_key")),
        ))
    session.add(WalletCredentialStatus(credential_id=row.id, resident_id=resident_id,
                                       references=encode_status_references([c.status for c in copies])))
    session.commit()
    session.refresh(row)
    return row


def encode_status_references(references: Sequence[StatusReference | None]) -> str:
    """``WalletCredentialStatus.references``: the copies' status list entries (copies without one left out)."""
    return json_dumps([{"uri": r.uri, "idx": r.idx} for r in references if r is not None])


def open_copy(settings: WalletSettings, copy: WalletCredentialCopy) -> tuple[str, PrivateJwk]:
    """The credential and holder key of a copy.

    Raises:
        SealedValueInvalid: the master key changed or the row was tampered with.
    """
    credential = unseal(settings.master_key_bytes, copy.sealed_credential,
                        aad=_aad(copy.id, copy.resident_id, "credential")).decode()
    key = parse_private_jwk(json_loads(unseal(settings.master_key_bytes, copy.sealed_holder_key,
                                              aad=_aad(copy.id, copy.resident_id, "holder_key"))))
    return credential, key


def _decode(settings: WalletSettings, copy: WalletCredentialCopy) -> DecodedSdJwt:
    text = unseal(settings.master_key_bytes, copy.sealed_credential, aad=_aad(copy.id, copy.resident_id, "credential"))
    return decode_sd_jwt(text.decode())


def _held(session: Session, settings: WalletSettings, row: WalletCredential) -> Held:
    copies = list(session.exec(select(WalletCredentialCopy).where(WalletCredentialCopy.credential_id == row.id)
                               .order_by(col(WalletCredentialCopy.id))))
    left = sum(1 for c in copies if c.used_at is None)
    # Every copy carries the same claims: any one shows what the credential says.
    return Held(row=row, decoded=_decode(settings, copies[0]), copies=len(copies), copies_left=left, display=json_loads(row.display))


def list_held(session: Session, settings: WalletSettings, resident_id: str) -> list[Held]:
    rows = session.exec(select(WalletCredential).where(WalletCredential.resident_id == resident_id)
                        .order_by(col(WalletCredential.received_at).desc(), col(WalletCredential.id)))
    return [_held(session, settings, row) for row in rows]


def get_held(session: Session, settings: WalletSettings, resident_id: str, credential_id: str) -> Held:
    """Raises: NotFound (no such credential of this resident)."""
    row = session.get(WalletCredential, credential_id)
    if row is None or row.resident_id != resident_id:
        raise NotFound("you hold no credential with this id")
    return _held(session, settings, row)


def claim_unused_copy(session: Session, resident_id: str, credential_id: str, request_id: str, *,
                      now: datetime) -> WalletCredentialCopy:
    """Mark one unused copy as used for ``request_id``, atomically; the caller commits.

    Raises:
        NoUnusedCopy: every copy has been presented already.
    """
    candidates = session.exec(select(WalletCredentialCopy.id).where(
        WalletCredentialCopy.credential_id == credential_id, WalletCredentialCopy.resident_id == resident_id,
        col(WalletCredentialCopy.used_at).is_(None)).order_by(col(WalletCredentialCopy.id)))
    for copy_id in list(candidates):
        claimed = session.execute(
            update(WalletCredentialCopy)
            .where(col(WalletCredentialCopy.id) == copy_id, col(WalletCredentialCopy.used_at).is_(None))
            .values(used_at=utc(now), used_for_request_id=request_id)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            copy = session.get(WalletCredentialCopy, copy_id)
            assert copy is not None
            session.refresh(copy)
            return copy
    raise NoUnusedCopy(
        "every copy of this credential has already been shown to a verifier; ask the issuer for a new one, "
        "so that this verifier cannot link your presentations"
    )


def claim_name(display: Mapping[str, Any], path: ClaimsPath) -> dict[str, str]:
    """The claim's display name in English and Japanese from the issuer's metadata, else its path."""
    fallback = ".".join("*" if p is None else str(p) for p in path)
    for entry in display.get("claims", ()):
        if tuple(entry.get("path", ())) == tuple(path):
            return {"en": entry.get("en") or fallback, "ja": entry.get("ja") or entry.get("en") or fallback}
    return {"en": fallback, "ja": fallback}


def encode_paths(paths: Mapping[str, Sequence[ClaimsPath]]) -> str:
    return json.dumps({k: [list(p) for p in v] for k, v in paths.items()}, ensure_ascii=False)
