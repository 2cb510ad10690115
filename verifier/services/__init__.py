"""Plain functions over (session, settings, typed input, *, now): what the routes call."""
