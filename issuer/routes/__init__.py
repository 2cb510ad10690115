"""The issuer's HTTP routes: well-known metadata, OpenID4VCI endpoints, and the admin API."""
