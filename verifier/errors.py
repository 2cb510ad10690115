"""The verifier service's own refusals, in OpenID4VP's error vocabulary (``tsunagu.oid4vp.errors``)."""

from __future__ import annotations

from typing import ClassVar

from tsunagu.oid4vp import InvalidRequest

__all__ = ["UnknownTenant", "UnknownRequest", "RequestExpired", "RequestAlreadyAnswered", "UnknownTemplate",
           "InvalidTenant"]


class UnknownTenant(InvalidRequest):
    code = "verifier.unknown_tenant"
    status_code: ClassVar[int] = 404


class UnknownRequest(InvalidRequest):
    code = "verifier.unknown_request"
    status_code: ClassVar[int] = 404


class RequestExpired(InvalidRequest):
    """The presentation request's lifetime is over; the verifier must create a new one."""

    code = "verifier.request_expired"


class RequestAlreadyAnswered(InvalidRequest):
    """A wallet fetched the Request Object of a request that already has a response."""

    code = "verifier.request_already_answered"


class UnknownTemplate(InvalidRequest):
    code = "verifier.unknown_template"


class InvalidTenant(InvalidRequest):
    """A tenant registration whose key, certificate or name is unusable."""

    code = "verifier.invalid_tenant"
