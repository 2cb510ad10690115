"""SD-JWT (RFC 9901), one module per role: ``issuer``, ``holder``, ``verifier``.

``disclosure`` holds the disclosure format and digests, ``compact`` the ``~`` serialization.
The package's public names are re-exported from :mod:`tsunagu`.
"""
