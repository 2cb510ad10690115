"""HTTP routes: ``admin`` (authenticated, for the verifier's own systems) and ``oid4vp`` (for wallets)."""
