"""The service kit: what the issuer, wallet and verifier services share on top of FastAPI and SQLModel.

The rest of ``tsunagu`` is pure (no framework, no database, no network); this subpackage is the one
place where those appear, so that the three services do not each carry a copy of the same error
handlers, database engine setup, admin authentication and bounded HTTP fetching. Protocol logic
never lives here: it is in ``tsunagu.oid4vci``, ``tsunagu.oid4vp`` and the other core modules.
"""
