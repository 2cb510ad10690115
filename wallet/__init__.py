"""The Tsunagu wallet service: residents' credentials, holder keys, consents and presentations."""

from .app import create_app
from .settings import WalletSettings

__all__ = ["create_app", "WalletSettings"]
