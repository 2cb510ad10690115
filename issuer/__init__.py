"""The issuer service: OpenID4VCI 1.0 for several issuing organisations on one deployment.

``create_app(settings)`` (``issuer.app``) builds it. Each tenant (an employer, a city tax office,
the immigration authority) is its own Credential Issuer, ``{public_url}/{tenant}``, with its own
signing key, metadata and endpoints.
"""
