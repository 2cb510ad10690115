"""``tsunagu issuer offer|credentials|revoke|suspend|reinstate|rotate-key``, ``tsunagu verifier
request|result``: thin clients of the services' admin APIs, printing the service's JSON answer.

The URL and API key come from ``--url``/``--api-key``, or from a ``demo.json`` written by
``tsunagu demo`` (``--demo``; default ``demo-data/demo.json`` when it exists). A refusal by the
service prints its ``{"error", "error_description"}`` on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .base import EXIT_INVALID, EXIT_OK, InputError, Subcommands, UsageError, positive_int, print_json, read_json

__all__ = ["add_issuer_commands", "add_verifier_commands"]

DEFAULT_DEMO_FILE = Path("demo-data/demo.json")


def add_issuer_commands(subcommands: Subcommands) -> None:
    group = subcommands.add_parser("issuer", help="the issuer's admin API")
    commands = group.add_subparsers(dest="issuer_command", metavar="COMMAND", required=True)
    offer = commands.add_parser("offer", help="create a credential offer for a resident")
    _add_target(offer)
    offer.add_argument("--tenant", required=True, help="issuing organisation, e.g. employer")
    offer.add_argument("--configuration", required=True, help="credential configuration id, e.g. EmploymentCertificate")
    offer.add_argument("--claims", required=True, help="JSON file (or - for stdin) with the credential's claims")
    offer.add_argument("--subject", default="resident", help="a label for the resident, kept by the issuer only")
    offer.add_argument("--tx-code", action="store_true", help="protect the offer with a one-time transaction code")
    offer.add_argument("--expires-in", type=positive_int, help="seconds the offer stays valid")
    offer.set_defaults(handler=_issuer_offer, service="issuer")

    credentials = commands.add_parser("credentials", help="list issued credentials, newest first")
    _add_target(credentials)
    credentials.add_argument("--tenant", required=True, help="issuing organisation, e.g. employer")
    credentials.add_argument("--subject", help="only this resident's (the subject label given with the offer)")
    credentials.add_argument("--vct", help="only credentials of this type")
    credentials.add_argument("--limit", type=positive_int, help="at most this many (default 100)")
    credentials.set_defaults(handler=_issuer_credentials, service="issuer")
    for action, what in (
        ("revoke", "revoke a credential (final): every verifier sees it at its next status check"),
        ("suspend", "suspend a credential until it is reinstated"),
        ("reinstate", "lift a suspension (a revoked credential cannot be reinstated)"),
    ):
        change = commands.add_parser(action, help=what)
        _add_target(change)
        change.add_argument("credential_id", metavar="CREDENTIAL_ID", help="the id `tsunagu issuer credentials` shows")
        change.add_argument("--tenant", required=True, help="issuing organisation, e.g. employer")
        change.add_argument("--reason", required=True, help="why, for the issuer's audit log (never published)")
        change.add_argument("--actor", help="who is acting, for the audit log (default: your login name)")
        change.set_defaults(handler=_issuer_status_change, action=action, service="issuer")
    rotate = commands.add_parser("rotate-key", help="make a new signing key active; old keys stay published while needed")
    _add_target(rotate)
    rotate.add_argument("--tenant", required=True, help="issuing organisation, e.g. employer")
    rotate.add_argument("--reason", help="why, for the audit log (default: scheduled key rotation)")
    rotate.add_argument("--actor", help="who is acting, for the audit log (default: your login name)")
    rotate.set_defaults(handler=_issuer_rotate_key, service="issuer")


def add_verifier_commands(subcommands: Subcommands) -> None:
    group = subcommands.add_parser("verifier", help="the verifier's admin API")
    commands = group.add_subparsers(dest="verifier_command", metavar="COMMAND", required=True)
    request = commands.add_parser("request", help="create a presentation request")
    _add_target(request)
    request.add_argument("--tenant", required=True, help="the verifier, e.g. landlord")
    request.add_argument("--purpose", required=True, help="purpose code, e.g. rental_screening")
    what = request.add_mutually_exclusive_group(required=True)
    what.add_argument("--template", help="a named query template (see GET /admin/templates)")
    what.add_argument("--dcql", help="JSON file (or -) with a DCQL query")
    request.add_argument("--retention-days", type=positive_int, default=30, help="how long the answer will be kept")
    request.set_defaults(handler=_verifier_request, service="verifier")
    result = commands.add_parser("result", help="the status and explained decision of a request")
    _add_target(result)
    result.add_argument("--tenant", required=True)
    result.add_argument("request_id")
    result.set_defaults(handler=_verifier_result, service="verifier")


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the service's base URL")
    parser.add_argument("--api-key", help="the service's admin API key")
    parser.add_argument("--demo", type=Path, help=f"take URL and key from a demo.json (default {DEFAULT_DEMO_FILE})")


def _issuer_offer(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "credential_configuration_id": args.configuration,
        "subject": args.subject,
        "claims": read_json(args.claims, what="claims file"),
        "tx_code": args.tx_code,
    }
    if args.expires_in is not None:
        body["expires_in"] = args.expires_in
    return _call(args, "POST", f"/admin/{args.tenant}/offers", body)


def _issuer_credentials(args: argparse.Namespace) -> int:
    params = {name: value for name in ("subject", "vct", "limit") if (value := getattr(args, name)) is not None}
    return _call(args, "GET", f"/admin/{_segment(args.tenant)}/credentials", None, params=params)


def _issuer_status_change(args: argparse.Namespace) -> int:
    path = f"/admin/{_segment(args.tenant)}/credentials/{_segment(args.credential_id)}/{args.action}"
    return _call(args, "POST", path, {"reason": args.reason}, headers=_actor(args))


def _issuer_rotate_key(args: argparse.Namespace) -> int:
    body = {"reason": args.reason} if args.reason is not None else {}
    return _call(args, "POST", f"/admin/{_segment(args.tenant)}/keys/rotate", body, headers=_actor(args))


def _segment(value: str) -> str:
    """One path segment: an id with '/' or '?' must not address another endpoint."""
    return quote(value, safe="")


def _actor(args: argparse.Namespace) -> dict[str, str]:
    actor = args.actor
    if actor is None:
        try:
            actor = getpass.getuser()
        except (OSError, KeyError):  # no login name in this environment (a container): the service says "admin API"
            return {}
    return {"X-Tsunagu-Actor": actor}


def _verifier_request(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"purpose": args.purpose, "retention_days": args.retention_days}
    if args.template:
        body["template"] = args.template
    else:
        body["dcql_query"] = read_json(args.dcql, what="DCQL query")
    return _call(args, "POST", f"/admin/{args.tenant}/requests", body)


def _verifier_result(args: argparse.Namespace) -> int:
    return _call(args, "GET", f"/admin/{args.tenant}/requests/{args.request_id}", None)


def _target(args: argparse.Namespace) -> tuple[str, str]:
    url, key = args.url, args.api_key
    if url is None or key is None:
        demo_file = args.demo or DEFAULT_DEMO_FILE
        if not demo_file.is_file():
            raise UsageError(f"give --url and --api-key, or --demo with a demo.json ({demo_file} does not exist)")
        try:
            service = json.loads(demo_file.read_text(encoding="utf-8"))[args.service]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{demo_file} is not a demo.json written by `tsunagu demo` ({exc})") from None
        url, key = url or service["url"], key or service["admin_api_key"]
    return str(url).rstrip("/"), str(key)


def _call(args: argparse.Namespace, method: str, path: str, body: Any, *, params: dict[str, Any] | None = None,
          headers: dict[str, str] | None = None) -> int:
    import httpx

    url, key = _target(args)
    try:
        response = httpx.request(
            method, url + path, json=body, params=params,
            headers={"Authorization": f"Bearer {key}", **(headers or {})}, timeout=30,
        )
    except httpx.HTTPError as exc:
        raise InputError(f"cannot reach {url}: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {"error": "invalid_response", "error_description": response.text[:500]}
    if response.status_code >= 400:
        print_json({"status": response.status_code, **answer}, sys.stderr)
        return EXIT_INVALID
    print_json(answer)
    return EXIT_OK
