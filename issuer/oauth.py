"""The Token Endpoint on Authlib's OAuth 2.0 server core, with the Pre-Authorized Code grant.

Authlib's ``AuthorizationServer`` finds the grant for the request's ``grant_type`` (and answers
``unsupported_grant_type`` for any other) and frames the token response; the grant here does the
OpenID4VCI part (§6), delegating to ``services.tokens``. Its checks raise Tsunagu's typed wire
errors (``tsunagu.oid4vci.InvalidGrant`` ...), which Authlib lets through to the service's one
error handler, so the token endpoint's errors look like every other endpoint's. Authlib's client
authentication is not used: Pre-Authorized Code access is anonymous here (§6.1, §12.3).

Everything is synchronous (Authlib's core is): the route is a plain ``def``, run in the thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from sqlmodel import Session

from tsunagu.oid4vci import (
    PRE_AUTHORIZED_CODE_GRANT,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    TokenEndpointError,
    UnsupportedGrantType,
    parse_token_request,
)

from .services.tokens import redeem_pre_authorized_code
from .settings import IssuerSettings, IssuerTenant

__all__ = ["TokenContext", "token_endpoint_response"]

_NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


@dataclass(frozen=True, slots=True)
class TokenContext:
    """What the grant needs beyond the form: the database, the tenant, the time and the DPoP binding."""

    session: Session
    settings: IssuerSettings
    tenant: IssuerTenant
    now: datetime
    dpop_jkt: str | None


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    """The form with every value kept, so a repeated parameter can be refused (RFC 6749 §3.2)."""

    def __init__(self, form: Mapping[str, Sequence[str]]) -> None:
        self._datalist = {name: list(values) for name, values in form.items()}
        self._data = {name: values[0] for name, values in self._datalist.items() if values}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class PreAuthorizedCodeGrant(BaseGrant, TokenEndpointMixin):  # type: ignore[misc]
    """OpenID4VCI §6.1: ``grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code``."""

    GRANT_TYPE = PRE_AUTHORIZED_CODE_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

    def validate_token_request(self) -> None:
        self.token_request = parse_token_request(self.request.payload.datalist)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        context: TokenContext = self.server.context
        response = redeem_pre_authorized_code(
            context.session,
            context.settings,
            context.tenant,
            self.token_request,
            dpop_jkt=context.dpop_jkt,
            now=context.now,
        )
        return 200, response.to_json(), list(_NO_STORE)


_WIRE: dict[str, type[TokenEndpointError]] = {
    "unsupported_grant_type": UnsupportedGrantType,
    "invalid_grant": InvalidGrant,
    "invalid_client": InvalidClient,
    "invalid_request": InvalidRequest,
}
_AUTHLIB_REASONS = {"unsupported_grant_type": "this authorization server only accepts the pre-authorized code grant"}


class _TokenServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, context: TokenContext) -> None:
        super().__init__()
        self.context = context
        self.register_grant(PreAuthorizedCodeGrant)

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        merged = dict(headers)
        merged.update(_NO_STORE)
        merged.pop("Content-Type", None)
        return status, body, merged

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> None:
        # Authlib's own refusals (an unknown grant_type) become the typed errors every other refusal
        # is, so they get the same body (with an error_description) from the one handler.
        raise _WIRE.get(error.error or "", InvalidRequest)(_AUTHLIB_REASONS.get(error.error or "", "the token request is invalid"))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def query_client(self, client_id: str) -> None:
        return None


def token_endpoint_response(
    context: TokenContext, *, uri: str, form: Mapping[str, Sequence[str]], headers: Mapping[str, str]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Run the Token Endpoint for one request: ``(status, JSON body, headers)``.

    Raises:
        the grant's typed errors (``InvalidGrant``, ``InvalidRequest`` ...), and
        ``UnsupportedGrantType`` for a grant type no registered grant handles.
    """
    request = OAuth2Request("POST", uri, headers=dict(headers))
    request.payload = _FormPayload(form)
    result: tuple[int, dict[str, Any], dict[str, str]] = _TokenServer(context).create_token_response(request)
    return result
