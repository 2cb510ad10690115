"""The Authorization Response with Response Mode ``direct_post`` (OpenID4VP 1.0 §8.1, §8.2, §8.5).

The wallet posts ``vp_token`` (a JSON object: Credential Query id → array of presentations) and
``state`` as an ``application/x-www-form-urlencoded`` body to the ``response_uri``, or an
Authorization Error Response (``error``, ``error_description``, ``state``). The verifier answers
200 with a JSON object: ``{}``, or ``{"redirect_uri": ...}`` to continue on the wallet's device.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..dcql import parse_vp_token
from ..errors import InvalidVpToken
from .errors import InvalidAuthorizationResponse
from .form import encode_form, parse_form

__all__ = [
    "AuthorizationResponse",
    "AuthorizationErrorResponse",
    "parse_authorization_response",
    "build_authorization_response_form",
    "build_authorization_error_form",
    "response_endpoint_answer",
]

# RFC 6749 §4.1.2.1: error and error_description use %x20-21 / %x23-5B / %x5D-7E only.
_ERROR = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")
_STATE = re.compile(r"[A-Za-z0-9._~-]{1,512}")
#: A vp_token parameter larger than this is refused before JSON parsing.
MAX_VP_TOKEN_CHARS: Final = 512 * 1024


@dataclass(frozen=True, slots=True)
class AuthorizationResponse:
    vp_token: Mapping[str, tuple[str, ...]]
    state: str | None


@dataclass(frozen=True, slots=True)
class AuthorizationErrorResponse:
    error: str
    error_description: str | None
    state: str | None


def parse_authorization_response(
    body: bytes | str | Mapping[str, str],
) -> AuthorizationResponse | AuthorizationErrorResponse:
    """Read what a wallet posted to the ``response_uri``.

    ``body`` is the raw form body (preferred: repeated parameters are detected) or a parsed mapping.
    Unknown parameters are ignored (§8.1).

    Raises:
        InvalidAuthorizationResponse: not a form, a repeated parameter, neither ``vp_token`` nor ``error``,
            both, an encrypted ``response`` (``direct_post.jwt`` is not supported), a malformed ``state``,
            ``error`` or ``vp_token``.
    """
    form = dict(body) if isinstance(body, Mapping) else parse_form(body, error=InvalidAuthorizationResponse)
    state = form.get("state")
    if state is not None and not _STATE.fullmatch(state):
        raise InvalidAuthorizationResponse("state must be a string of URL-safe characters")
    if "response" in form:
        raise InvalidAuthorizationResponse("encrypted responses (direct_post.jwt) are not accepted here")
    if "error" in form:
        if "vp_token" in form:
            raise InvalidAuthorizationResponse("a response cannot carry both an error and a vp_token")
        error, description = form["error"], form.get("error_description")
        if not _ERROR.fullmatch(error) or " " in error:
            raise InvalidAuthorizationResponse("the error code is malformed")
        if description is not None and not _ERROR.fullmatch(description):
            raise InvalidAuthorizationResponse("error_description has characters RFC 6749 does not allow")
        return AuthorizationErrorResponse(error=error, error_description=description, state=state)
    raw = form.get("vp_token")
    if raw is None:
        raise InvalidAuthorizationResponse("the response has neither vp_token nor error")
    if len(raw) > MAX_VP_TOKEN_CHARS:
        raise InvalidAuthorizationResponse("the vp_token is larger than any presentation Tsunagu accepts")
    try:
        vp_token = parse_vp_token(raw)
    except InvalidVpToken as exc:
        raise InvalidAuthorizationResponse(f"the vp_token is malformed: {exc.reason}") from None
    return AuthorizationResponse(vp_token=vp_token, state=state)


def build_authorization_response_form(vp_token: Mapping[str, Sequence[str]], *, state: str | None) -> str:
    """The wallet's form body: ``vp_token`` as JSON text (§8.1), and ``state`` when the request had one."""
    params = {"vp_token": json.dumps({key: list(value) for key, value in vp_token.items()}, separators=(",", ":"))}
    if state is not None:
        params["state"] = state
    return encode_form(params)


def build_authorization_error_form(error: str, *, description: str | None = None, state: str | None = None) -> str:
    params = {"error": error}
    if description is not None:
        params["error_description"] = description
    if state is not None:
        params["state"] = state
    return encode_form(params)


def response_endpoint_answer(redirect_uri: str | None = None) -> dict[str, Any]:
    """§8.2: the JSON object the ``response_uri`` returns with 200."""
    return {} if redirect_uri is None else {"redirect_uri": redirect_uri}
