"""Admin API authentication: ``Authorization: Bearer <admin_api_key>``, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, ClassVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..errors import ProtocolError

__all__ = ["InvalidAdminToken", "AdminKeyDep", "require_admin_key"]

_bearer = HTTPBearer(auto_error=False, description="The service's admin API key (setting `admin_api_key`).")


class InvalidAdminToken(ProtocolError):
    """RFC 6750 §3.1 ``invalid_token`` for the admin API."""

    code = "service.admin_token_invalid"
    error = "invalid_token"
    status_code: ClassVar[int] = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="admin", error="invalid_token"'}


def require_admin_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = request.app.state.settings.admin_api_key
    if expected is None:
        raise InvalidAdminToken("the admin API is disabled on this service (no admin_api_key is set)")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidAdminToken("the admin API needs an 'Authorization: Bearer <admin API key>' header")
    # Hash both sides so the comparison takes the same time whatever the lengths.
    given = hashlib.sha256(credentials.credentials.encode()).digest()
    wanted = hashlib.sha256(expected.get_secret_value().encode()).digest()
    if not hmac.compare_digest(given, wanted):
        raise InvalidAdminToken("the admin API key is not valid")


AdminKeyDep = Annotated[None, Depends(require_admin_key)]
