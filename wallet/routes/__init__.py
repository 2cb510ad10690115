"""The wallet's HTTP routes: thin, each a call to a service function and a view."""
