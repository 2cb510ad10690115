"""The verifier service's schema migrations, oldest first (``tsunagu schema revision verifier`` adds one)."""
