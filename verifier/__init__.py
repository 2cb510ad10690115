"""The verifier service: banks, landlords and other relying parties asking residents for credentials (OpenID4VP 1.0).

One service hosts several verifiers ("tenants"), each with its own ``client_id``, certificate and
request-signing key. See ``docs/api.md`` and ``verifier.app.create_app``.
"""

from .app import create_app
from .settings import VerifierSettings

__all__ = ["create_app", "VerifierSettings"]
