"""Verifier throughput with the status check, on a warm cache: presentations verified per second.

Run by hand: ``.venv/bin/python bench/bench_verifier.py`` (``--help`` for options). It is not part
of the test suite and asserts no timings.

The world, all in this process: the real issuer service (``issuer.app.create_app``, SQLite in a
temporary directory, its default status list of 131,072 entries) issues an employment certificate
through its own Credential Endpoint service function (``issue_credentials``: offer, ``c_nonce``,
key proof, status list entry, ES256 signature, 2 decoy digests). The resident presents 5 of its 12
claims (those the verifier's ``rental_screening_employment_income`` template asks for) with a
KB-JWT carrying our ``nonce`` and ``aud``. The verifier's own ``IssuerDocuments`` (built by
``verifier.services.issuer_documents.build_issuer_documents`` from default ``VerifierSettings``)
fetches the issuer's JWT VC Issuer Metadata and status list token through an ``httpx.AsyncClient``
over ``httpx.ASGITransport`` to that issuer app. One verification runs first, so the issuer keys
and the verified status list token are cached; the timed runs then make no request to the issuer
(counted and printed).

Timed, each a single presentation in a ``vp_token``:

- (a) verify + status, warm: ``verifier.services.verification.verify_vp_token``, the function
  the response endpoint calls once it has the request's row: format, trust registry, issuer keys
  (cached), issuer signature, validity, disclosures, KB-JWT, status (cached list, one lookup), the
  DCQL query, the explained decision. Not included: the HTTP request, form parsing, the database
  work of the response endpoint (finding and claiming the request, sealing the claims).
- (b) verify, no status: the same on the same credential issued without a ``status`` claim (same
  claims, key, decoys, dates), so the difference is what the status check costs.
- (c) core + status lookup: ``tsunagu.sd_jwt_vc.verify_sd_jwt_vc`` with the same keys, nonce, aud
  and policy, then ``parse_status_claim`` and the entry read from the decoded list.
- (d) core, no status: ``verify_sd_jwt_vc`` alone on the credential without a status (informational).

Measured like ``bench_sd_jwt.py``: in one process, pinned to one CPU when the OS allows it, one
event loop; a warm-up, then ``--repeat`` interleaved rounds of about ``--seconds`` per operation;
the best of the rounds is reported (the least disturbed by other load), the median beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import inspect
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlmodel import Session, select

from issuer.app import create_app
from issuer.services.credential_status import StatusChange, change_credential_status
from issuer.services.issuance import issue_credentials
from issuer.services.keys import active_signing_key
from issuer.services.nonces import create_nonce
from issuer.services.offers import OfferSpec, create_offer
from issuer.services.tokens import AccessContext
from issuer.settings import IssuerSettings
from issuer.tables import IssuerCredential
from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sd_jwt import Result, pin_to_one_cpu  # noqa: E402  (a sibling script: same timing conventions)
from tsunagu.credential_types import EMPLOYMENT_CERTIFICATE
from tsunagu.dcql import parse_dcql_query
from tsunagu.encoding import b64url_decode
from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.oid4vci import CredentialRequest
from tsunagu.oid4vci.proof import build_proof_jwt
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.sd_jwt_vc import issue_sd_jwt_vc, issuer_key_resolver, verify_sd_jwt_vc
from tsunagu.status_list import VALID, parse_status_claim
from tsunagu.trust import IssuerEntry, LocalizedText, TrustRegistry
from tsunagu.x509 import create_root_ca
from verifier.services.issuer_documents import build_issuer_documents
from verifier.services.verification import (
    VerificationContext,
    VerificationResult,
    policy_from,
    verify_vp_token,
)
from verifier.settings import VerifierSettings
from verifier.templates import get_template

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ISSUER_URL = "https://issuer.bench"
TENANT = "employer"
CONFIGURATION = "EmploymentCertificate"
CLIENT_ID = "x509_san_dns:verifier.bench"
NONCE = "n-0S6_WzA2Mj-bench"
TEMPLATE = "rental_screening_employment_income"

WITH_STATUS = "(a) verify + status, warm"
NO_STATUS = "(b) verify, no status"
CORE = "(c) core + status lookup"
CORE_NO_STATUS = "(d) core, no status"

Op = Callable[[], object]


# --- timing: plain functions and coroutine functions alike, on the running event loop ------------


async def _call_batch(op: Op, batch: int) -> None:
    if inspect.iscoroutinefunction(op):
        for _ in range(batch):
            await op()
    else:
        for _ in range(batch):
            op()


async def _batch_size(op: Op) -> int:
    """Calls per timer reading, so that a batch takes ~10 ms and the timer's cost vanishes."""
    batch = 1
    while True:
        start = time.perf_counter()
        await _call_batch(op, batch)
        if time.perf_counter() - start >= 0.01:
            return batch
        batch *= 2


async def _timed_run(op: Op, batch: int, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        await _call_batch(op, batch)
        count += batch
        end = time.perf_counter()
        if end >= deadline:
            return count / (end - start)


async def measure(ops: dict[str, Op], *, seconds: float, repeat: int) -> dict[str, Result]:
    """ops/s of each operation over ``repeat`` interleaved rounds, after a warm-up."""
    batches = {name: await _batch_size(op) for name, op in ops.items()}
    for name, op in ops.items():
        await _timed_run(op, batches[name], min(0.2, seconds))
    runs: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(repeat):
        for name, op in ops.items():
            gc.collect()
            runs[name].append(await _timed_run(op, batches[name], seconds))
    return {name: Result(name, max(r), statistics.median(r), r) for name, r in runs.items()}


# --- the world: a real issuer app, the verifier's IssuerDocuments over ASGI ------------------------


class CountingASGITransport(httpx.ASGITransport):
    """Counts the requests that reach the issuer app: none may happen while the cache is warm."""

    requests: list[str]

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.requests = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


def _master_key() -> SecretStr:
    return SecretStr(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))


def issue_from_service(engine: Any, settings: IssuerSettings, holder: PrivateJwk) -> tuple[str, str]:
    """An employment certificate issued by the issuer's Credential Endpoint function, and one without status.

    The second is signed with the issuer's active key from its database, with the same claims, type,
    dates and number of decoys, only without a ``status`` claim (the service always adds one).
    """
    tenant = settings.tenant(TENANT)
    assert tenant is not None
    issuer_id = settings.credential_issuer(TENANT)
    with Session(engine) as session:
        offer = create_offer(session, settings, tenant, OfferSpec(CONFIGURATION, "bench", dict(EMPLOYMENT_CLAIMS)),
                             now=NOW)
        session.commit()
        c_nonce = create_nonce(session, settings, tenant, now=NOW).c_nonce
        session.commit()
        proof = build_proof_jwt(holder, audience=issuer_id, nonce=c_nonce, iat=NOW)
        access = AccessContext(token_hash="bench", tenant=TENANT, offer_id=offer.offer_id,
                               credential_configuration_id=CONFIGURATION, client_id=None, dpop_jkt=None)
        response = issue_credentials(session, settings, tenant, access,
                                     CredentialRequest(credential_configuration_id=CONFIGURATION, proofs=(proof,)),
                                     now=NOW)
        with_status = response.credentials[0]
        assert isinstance(with_status, str)
        payload = decode_sd_jwt(with_status).payload
        key = active_signing_key(session, settings, TENANT)
    without_status = issue_sd_jwt_vc(
        EMPLOYMENT_CLAIMS, vct=EMPLOYMENT_CERTIFICATE.vct, key=key, issuer=issuer_id,
        iat=datetime.fromtimestamp(payload["iat"], UTC), exp=datetime.fromtimestamp(payload["exp"], UTC),
        holder_key=holder.public, decoys=settings.decoy_digests,
    ).compact
    return with_status, without_status


def registry_for(issuer_id: str) -> TrustRegistry:
    """The typed registry the verifier would load: the issuer registered for employment certificates."""
    root_key = generate_key("ES256")
    root = create_root_ca(root_key, common_name="Bench Registry Root", now=NOW - timedelta(days=1),
                          valid_for=timedelta(days=3650))
    entry = IssuerEntry(issuer_id, LocalizedText("Sakura Systems", "さくらシステムズ"), (EMPLOYMENT_CERTIFICATE.vct,))
    return TrustRegistry(iss="https://registry.bench", iat=NOW - timedelta(hours=1), exp=NOW + timedelta(days=30),
                         root_certificate=root, issuers=(entry,), verifiers=())


def _outcome(result: VerificationResult) -> dict[str, str]:
    return {check.id: check.outcome for check in result.decision.checks}


async def run(args: argparse.Namespace, pinning: str) -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        issuer_settings = IssuerSettings(public_url=ISSUER_URL, database_url=f"sqlite:///{Path(tmp) / 'issuer.db'}",
                                         master_key=_master_key(), admin_api_key=None)
        issuer_app = create_app(issuer_settings, clock=lambda: NOW)
        issuer_id = issuer_settings.credential_issuer(TENANT)
        holder = generate_key("ES256")
        with_status, without_status = issue_from_service(issuer_app.state.engine, issuer_settings, holder)

        paths = [tuple(c["path"]) for c in get_template(TEMPLATE).dcql_query["credentials"][0]["claims"]]
        binding = KeyBindingRequest(holder_key=holder, aud=CLIENT_ID, nonce=NONCE, iat=NOW)
        shown = present_sd_jwt(decode_sd_jwt(with_status), paths, key_binding=binding)
        shown_no_status = present_sd_jwt(decode_sd_jwt(without_status), paths, key_binding=binding)

        verifier_settings = VerifierSettings(public_url="https://verifier.bench", database_url="sqlite://",
                                             master_key=_master_key())
        registry = registry_for(issuer_id)
        context = VerificationContext(
            query=parse_dcql_query(get_template(TEMPLATE).dcql_query), client_id=CLIENT_ID, nonce=NONCE,
            registry=registry, policy=policy_from(verifier_settings.clock_skew_seconds,
                                                  verifier_settings.kb_max_age_seconds),
            unreachable_status_policy=verifier_settings.unreachable_status_policy)
        transport = CountingASGITransport(issuer_app)

        async with LifespanManager(issuer_app), httpx.AsyncClient(transport=transport) as http:
            documents = build_issuer_documents(verifier_settings, http, registry=lambda: registry, clock=lambda: NOW)

            async def verify_with_status() -> VerificationResult:
                return await verify_vp_token({"employment": (shown,)}, context, documents, now=NOW)

            async def verify_no_status() -> VerificationResult:
                return await verify_vp_token({"employment": (shown_no_status,)}, context, documents, now=NOW)

            # The first verification fills the cache (metadata + status list); it must really verify.
            first = await verify_with_status()
            cold_requests = list(transport.requests)
            assert first.decision.outcome == "accepted", first.decision
            assert _outcome(first)["status"] == "passed", _outcome(first)
            assert sorted(first.claims["employment"][0]) == sorted(
                [*(p[0] for p in paths), "iss", "vct", "iat", "exp", "cnf", "status"]), first.claims
            plain = await verify_no_status()
            assert plain.decision.outcome == "accepted" and _outcome(plain)["status"] == "skipped", _outcome(plain)
            # ... and a forged or replayed presentation is refused (not a no-op being timed).
            assert (await verify_vp_token({"employment": (_tamper(shown),)}, context, documents, now=NOW)
                    ).decision.outcome == "rejected"
            other_nonce = VerificationContext(context.query, CLIENT_ID, "another-nonce", registry, context.policy)
            assert (await verify_vp_token({"employment": (shown,)}, other_nonce, documents, now=NOW)
                    ).decision.outcome == "rejected"

            iss = issuer_id
            keys = await documents.issuer_keys(iss)
            reference = parse_status_claim(decode_sd_jwt(with_status).payload["status"])
            token = await documents.status_list(iss, reference.uri)
            expectation = KbExpectation(nonce=NONCE, aud=CLIENT_ID)

            def core_lookup() -> int:
                verified = verify_sd_jwt_vc(shown, issuer_key=issuer_key_resolver(iss, keys), kb=expectation,
                                            now=NOW, policy=context.policy)
                return token.status_list.get(parse_status_claim(verified.status).idx)

            def core_no_status() -> object:
                return verify_sd_jwt_vc(shown_no_status, issuer_key=issuer_key_resolver(iss, keys), kb=expectation,
                                        now=NOW, policy=context.policy)

            assert core_lookup() == VALID
            token_bytes = len((await http.get(reference.uri)).content)  # for the report; before the timed runs
            warm_from = len(transport.requests)
            results = await measure({WITH_STATUS: verify_with_status, NO_STATUS: verify_no_status,
                                     CORE: core_lookup, CORE_NO_STATUS: core_no_status},
                                    seconds=args.seconds, repeat=args.repeat)
            warm_requests = transport.requests[warm_from:]

            # The status check reads the issuer's real list: revoke the credential, and a verifier with
            # a cold cache rejects it (the warm one keeps the list for its ttl, as it should).
            with Session(issuer_app.state.engine) as session:
                credential_id = session.exec(select(IssuerCredential.id)).one()
                tenant = issuer_settings.tenant(TENANT)
                assert tenant is not None
                change_credential_status(session, issuer_settings, tenant, credential_id,
                                         StatusChange(action="revoke", reason="bench", actor="bench"), now=NOW)
            cold = build_issuer_documents(verifier_settings, http, registry=lambda: registry, clock=lambda: NOW)
            revoked = await verify_vp_token({"employment": (shown,)}, context, cold, now=NOW)
            assert revoked.decision.outcome == "rejected" and _outcome(revoked)["status"] == "failed", _outcome(revoked)
            revoked_reason = next(c.reason_en for c in revoked.decision.checks if c.id == "status")

    report(args, pinning, results, shown=shown, shown_no_status=shown_no_status, list_size=token.status_list.size,
           token_bytes=token_bytes, cold_requests=cold_requests, warm_requests=warm_requests,
           revoked_reason=revoked_reason, total=time.perf_counter() - t0)
    return 0


def _tamper(presentation: str) -> str:
    head, body, sig = presentation.split("~", 1)[0].split(".")
    flipped = ("A" if sig[10] != "A" else "B").join((sig[:10], sig[11:]))
    return presentation.replace(f"{head}.{body}.{sig}", f"{head}.{body}.{flipped}", 1)


# --- report ------------------------------------------------------------------------------------


def report(args: argparse.Namespace, pinning: str, results: dict[str, Result], *, shown: str, shown_no_status: str,
           list_size: int, token_bytes: int, cold_requests: list[str], warm_requests: list[str],
           revoked_reason: str, total: float) -> None:
    disclosures = shown.count("~") - 1
    issuer_payload = len(b64url_decode(shown.split("~", 1)[0].split(".")[1]))
    print("Verifier throughput: one SD-JWT VC presentation per vp_token, status check on a warm cache")
    print(f"  credential: employment certificate, {len(EMPLOYMENT_CLAIMS)} claims all selectively disclosable, "
          f"2 decoys, ES256 issuer key, P-256 holder key")
    print(f"  presented: {disclosures} disclosures + KB-JWT (nonce, aud); {len(shown):,} bytes "
          f"({len(shown_no_status):,} without status); issuer JWT payload {issuer_payload:,} bytes")
    print(f"  status list: {list_size:,} entries x 2 bits, token {token_bytes:,} bytes, from the real issuer app "
          "over httpx.ASGITransport")
    print(f"  requests to the issuer: first verification {cold_requests}; timed runs {len(warm_requests)}")
    print(f"  revoked afterwards, cold cache: rejected: {revoked_reason}")
    print(f"  python: {platform.python_version()} ({platform.python_implementation()}, {platform.machine()}); "
          f"cryptography {metadata.version('cryptography')}; httpx {metadata.version('httpx')}")
    print(f"  cpu: {pinning}; {args.repeat} runs of {args.seconds:g} s per operation, best and median")
    print()
    print(f"{'operation':<26}{'best ops/s':>12}{'median ops/s':>14}{'µs/op (best)':>14}{'µs/op (median)':>16}")
    for name, r in results.items():
        print(f"{name:<26}{r.best:>12,.0f}{r.median:>14,.0f}{1e6 / r.best:>14.1f}{1e6 / r.median:>16.1f}")
    print()

    def us(name: str, stat: str = "best") -> float:
        return 1e6 / float(getattr(results[name], stat))

    def line(label: str, a: str, b: str) -> None:
        best, median = us(a) - us(b), us(a, "median") - us(b, "median")
        print(f"{label:<44}{best:>8.1f} µs {best / us(b) * 100:>6.1f} %   (median {median:.1f} µs, "
              f"{median / us(b, 'median') * 100:.1f} %)")

    line("status check in the verifier (a - b)", WITH_STATUS, NO_STATUS)
    line("status claim + lookup in the core (c - d)", CORE, CORE_NO_STATUS)
    line("verifier pipeline around the core (a - c)", WITH_STATUS, CORE)
    print(f"{'core share of a verification (c / a)':<44}{us(CORE) / us(WITH_STATUS) * 100:>8.1f} %")
    print("(percentages of the second operation; core = tsunagu.sd_jwt_vc.verify_sd_jwt_vc)")
    print(f"\n(total {total:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per timed run (default 1)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation (default 5)")
    args = parser.parse_args(argv)
    pinning = pin_to_one_cpu()
    return asyncio.run(run(args, pinning))


if __name__ == "__main__":
    sys.exit(main())
