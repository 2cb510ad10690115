"""The wallet's service functions: plain functions over (session, settings, typed input, *, now)."""
