"""The issuer service's own refusals, in the vocabulary of the endpoint that raises them."""

from __future__ import annotations

from typing import ClassVar

from tsunagu.errors import ProtocolError

__all__ = ["UnknownTenant", "UnknownOffer", "InvalidAdminRequest"]


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
