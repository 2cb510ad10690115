"""The trust registry the wallet checks verifiers (and names issuers) against.

Loaded and verified at start-up by ``tsunagu.service.registry``: a wallet with a forged or expired
registry does not start. Without one, the wallet still holds credentials but answers no
presentation request, since it could not tell the resident who asks.
"""

from __future__ import annotations


from tsunagu.trust import TrustRegistry

from ..errors import TrustRegistryMissing

__all__ = ["require_registry"]


def require_registry(registry: TrustRegistry | None) -> TrustRegistry:
    """Raises: TrustRegistryMissing."""
    if registry is None:
        raise TrustRegistryMissing(
            "this wallet has no trust registry configured, so it cannot check who is asking; "
            "it answers no presentation request until one is configured"
        )
    return registry
