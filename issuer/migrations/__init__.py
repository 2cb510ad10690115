"""The issuer service's schema migrations, oldest first (``tsunagu schema revision issuer`` adds one)."""
