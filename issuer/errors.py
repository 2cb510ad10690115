"""The issuer service's own refusals, in the vocabulary of the endpoint that raises them."""

from __future__ import annotations

from typing import ClassVar

from tsunagu.errors import ProtocolError

__all__ = [
    "UnknownTenant",
    "UnknownOffer",
    "InvalidAdminRequest",
    "UnknownCredential",
    "CredentialRevoked",
    "StatusUnchanged",
    "ConcurrentStatusChange",
    "UnknownStatusList",
    "StatusAllocationFailed",
    "KeyRotationFailed",
]


class UnknownTenant(ProtocolError):
    """No issuing organisation of that id is hosted here."""

    code = "issuer.unknown_tenant"
    error = "not_found"
    status_code: ClassVar[int] = 404


class UnknownOffer(ProtocolError):
    """A ``credential_offer_uri`` for an offer that does not exist, was redeemed or expired."""

    code = "issuer.unknown_offer"
    error = "not_found"
    status_code: ClassVar[int] = 404


class InvalidAdminRequest(ProtocolError):
    code = "issuer.invalid_admin_request"
    error = "invalid_request"


class UnknownCredential(ProtocolError):
    """The admin named a credential this organisation never issued."""

    code = "issuer.unknown_credential"
    error = "not_found"
    status_code: ClassVar[int] = 404


class CredentialRevoked(ProtocolError):
    """Revocation is final: a revoked credential can be neither suspended nor reinstated."""

    code = "issuer.credential_revoked"
    error = "conflict"
    status_code: ClassVar[int] = 409


class StatusUnchanged(ProtocolError):
    """The change asked for is no change: suspending a suspended credential, reinstating a valid one."""

    code = "issuer.status_unchanged"
    error = "conflict"
    status_code: ClassVar[int] = 409


class ConcurrentStatusChange(ProtocolError):
    """Others kept changing the same credential's status at the same moment; nothing changed, try again."""

    code = "issuer.concurrent_status_change"
    error = "conflict"
    status_code: ClassVar[int] = 409


class UnknownStatusList(ProtocolError):
    """No status list of that number exists for this organisation."""

    code = "issuer.unknown_status_list"
    error = "not_found"
    status_code: ClassVar[int] = 404


class StatusAllocationFailed(ProtocolError):
    """Workers kept colliding while allocating status list entries; the request changed nothing and may be retried."""

    code = "issuer.status_allocation_failed"
    error = "temporarily_unavailable"
    status_code: ClassVar[int] = 503


class KeyRotationFailed(ProtocolError):
    """Concurrent rotations kept colliding; nothing changed and the rotation may be retried."""

    code = "issuer.key_rotation_failed"
    error = "temporarily_unavailable"
    status_code: ClassVar[int] = 503
