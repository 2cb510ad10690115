"""The wallet service's schema migrations, oldest first (``tsunagu schema revision wallet`` adds one)."""
