"""DCQL (OpenID4VP 1.0 §6, §7, §8.1, Appendix B.3): the spec's examples as data, hostile queries as a
table, and a resident's real credentials (employment, residence card, resident tax) for matching."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsunagu.claims_path import select_claim_paths, select_claims
from tsunagu.dcql import (
    CandidateMatch,
    DcqlMatchResult,
    HeldCredential,
    PresentedCredential,
    check_vp_token,
    match_query,
    parse_dcql_query,
    parse_vp_token,
    requested_claims,
)
from tsunagu.errors import ClaimsPathNotFound, DcqlNotSatisfied, InvalidDcqlQuery, InvalidVpToken, TsunaguError

VECTORS = sorted((Path(__file__).parent.parent / "vectors" / "oid4vp_dcql").glob("*.json"))


def _held(entry: Mapping[str, Any]) -> HeldCredential:
    return HeldCredential(entry["id"], entry["format"], entry["vct"], entry["claims"], entry["holder_binding"])


def _normalize(result: DcqlMatchResult) -> dict[str, Any]:
    """The match result as the vectors' JSON spells it, so whole values can be compared."""

    def candidate(c: CandidateMatch) -> dict[str, Any]:
        options = [None if o.claim_ids is None else list(o.claim_ids) for o in c.options]
        return {"credential_id": c.credential_id, "paths": [list(p) for p in c.paths], "options": options}

    return {
        "satisfied": result.satisfied,
        "candidates": {qid: [candidate(c) for c in cs] for qid, cs in result.candidates.items()},
        "mismatches": {qid: m.kind for qid, m in result.mismatches.items()},
        "satisfiable_sets": [[list(o) for o in s.satisfiable_options] for s in result.credential_sets],
        "selection": {qid: [c.credential_id for c in cs] for qid, cs in result.selection.items()},
    }


# --- the spec's examples ------------------------------------------------------------------------


def test_every_dcql_example_of_the_spec_is_here() -> None:
    assert len(VECTORS) == 11


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_spec_query_parses(vector: Path) -> None:
    raw = json.loads(vector.read_text())["query"]
    query = parse_dcql_query(raw)
    assert [(q.id, q.format, len(q.claims or ())) for q in query.credentials] == [
        (c["id"], c["format"], len(c.get("claims", []))) for c in raw["credentials"]
    ]
    assert [(s.options, s.required) for s in query.credential_sets or ()] == [
        (tuple(map(tuple, s["options"])), s.get("required", True)) for s in raw.get("credential_sets", [])
    ]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_spec_query_matches_as_we_expect(vector: Path) -> None:
    case = json.loads(vector.read_text())
    held = [_held(h) for h in case["ours"]["held"]]
    assert _normalize(match_query(parse_dcql_query(case["query"]), held)) == case["ours"]["expected_match"]


def test_spec_claims_alternatives_lists_every_path_asked() -> None:
    case = json.loads((VECTORS[0].parent / "claims_alternatives.json").read_text())
    asked = requested_claims(parse_dcql_query(case["query"]))
    assert asked == {"pid": (("last_name",), ("postal_code",), ("locality",), ("region",), ("date_of_birth",))}


def test_spec_defaults() -> None:
    """§6.1 ``multiple`` false and ``require_cryptographic_holder_binding`` true; §6.2 ``required`` true."""
    case = json.loads((VECTORS[0].parent / "credentials_alternatives.json").read_text())
    query = parse_dcql_query(case["query"])
    assert {(q.multiple, q.require_cryptographic_holder_binding) for q in query.credentials} == {(False, True)}
    assert [s.required for s in query.credential_sets or ()] == [True, False]
    assert query.credentials[0].vct_values == ("https://credentials.example.com/identity_credential",)


# --- claims path pointers (§7) ------------------------------------------------------------------

ARTHUR = {  # the §7.3 example credential
    "name": "Arthur Dent",
    "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
    "degrees": [
        {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
        {"type": "Master of Science", "university": "University of Betelgeuse"},
    ],
    "nationalities": ["British", "Betelgeusian"],
}


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        (("name",), ["Arthur Dent"]),
        (("address",), [ARTHUR["address"]]),
        (("address", "street_address"), ["42 Market Street"]),
        (("degrees", None, "type"), ["Bachelor of Science", "Master of Science"]),
        (("nationalities", 1), ["Betelgeusian"]),
    ],
    ids=["name", "address", "street_address", "degrees_type", "second_nationality"],
)
def test_spec_claims_path_examples(path: tuple[Any, ...], selected: list[Any]) -> None:
    assert select_claims(ARTHUR, path) == selected


def test_wildcard_gives_concrete_paths() -> None:
    assert select_claim_paths(ARTHUR, ("degrees", None, "type")) == [
        (("degrees", 0, "type"), "Bachelor of Science"),
        (("degrees", 1, "type"), "Master of Science"),
    ]


def test_elements_without_the_key_drop_out_of_the_selection() -> None:
    claims = {"degrees": [{"type": "BSc"}, {"type": "MSc", "honours": "distinction"}]}
    assert select_claims(claims, ("degrees", None, "honours")) == ["distinction"]


@pytest.mark.parametrize(
    "path",
    [("missing",), ("name", "first"), ("address", None), ("address", 0), ("nationalities", 2), ("degrees", None, "x")],
    ids=["absent", "string_into_string", "null_into_object", "index_into_object", "index_past_end", "all_dropped"],
)
def test_claims_path_selecting_nothing_is_an_error(path: tuple[Any, ...]) -> None:
    with pytest.raises(ClaimsPathNotFound):
        select_claims(ARTHUR, path)


def test_claims_path_over_an_empty_array_selects_nothing() -> None:
    with pytest.raises(ClaimsPathNotFound):
        select_claims({"job_duties": []}, ("job_duties", None))


# --- hostile and invalid queries ----------------------------------------------------------------

EMPLOYMENT_VCT = "https://credentials.tsunagu.example/EmploymentCertificate"
RESIDENCE_VCT = "https://credentials.tsunagu.example/ResidenceCard"
TAX_VCT = "https://credentials.tsunagu.example/ResidentTaxCertificate"


def _base() -> dict[str, Any]:
    """A landlord's screening query: employer, tenure and an income band, or the salary."""
    return {
        "credentials": [
            {
                "id": "employment",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [EMPLOYMENT_VCT]},
                "claims": [
                    {"id": "employer", "path": ["employer_name"]},
                    {"id": "since", "path": ["employment_start_date"]},
                    {"id": "band", "path": ["income_at_least"]},
                    {"id": "salary", "path": ["annual_salary"]},
                ],
                "claim_sets": [["employer", "since", "band"], ["employer", "since", "salary"]],
            },
            {"id": "residence", "format": "dc+sd-jwt", "meta": {"vct_values": [RESIDENCE_VCT]}},
        ],
        "credential_sets": [{"options": [["employment", "residence"]]}],
    }


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(query: dict[str, Any]) -> None:
        target: Any = query
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def _drop(*keys: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(query: dict[str, Any]) -> None:
        target: Any = query
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


C0 = ("credentials", 0)
HOSTILE: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("credentials_missing", _drop("credentials"), "credentials"),
    ("credentials_empty", _set("credentials", value=[]), "credentials"),
    ("credentials_object", _set("credentials", value={"employment": {}}), "credentials"),
    ("credential_not_object", _set("credentials", 0, value="employment"), "credentials[0]"),
    ("id_missing", _drop(*C0, "id"), "credentials[0].id"),
    ("id_empty", _set(*C0, "id", value=""), "credentials[0].id"),
    ("id_number", _set(*C0, "id", value=7), "credentials[0].id"),
    ("id_space", _set(*C0, "id", value="my cred"), "credentials[0].id"),
    ("id_dot", _set(*C0, "id", value="a.b"), "credentials[0].id"),
    ("id_kanji", _set(*C0, "id", value="在職証明"), "credentials[0].id"),
    ("id_fullwidth_digits", _set(*C0, "id", value="１２３"), "credentials[0].id"),
    ("id_trailing_newline", _set(*C0, "id", value="employment\n"), "credentials[0].id"),
    ("id_repeated", _set("credentials", 1, "id", value="employment"), "credentials[1].id"),
    ("format_missing", _drop(*C0, "format"), "credentials[0].format"),
    ("format_empty", _set(*C0, "format", value=""), "credentials[0].format"),
    ("format_list", _set(*C0, "format", value=["dc+sd-jwt"]), "credentials[0].format"),
    ("meta_missing", _drop(*C0, "meta"), "credentials[0].meta"),
    ("meta_array", _set(*C0, "meta", value=[]), "credentials[0].meta"),
    ("vct_values_missing", _set(*C0, "meta", value={}), "credentials[0].meta.vct_values"),
    ("vct_values_empty", _set(*C0, "meta", "vct_values", value=[]), "credentials[0].meta.vct_values"),
    ("vct_values_string", _set(*C0, "meta", "vct_values", value=EMPLOYMENT_VCT), "credentials[0].meta.vct_values"),
    ("vct_value_number", _set(*C0, "meta", "vct_values", value=[1]), "credentials[0].meta.vct_values[0]"),
    ("vct_value_empty", _set(*C0, "meta", "vct_values", value=[""]), "credentials[0].meta.vct_values[0]"),
    ("mdoc_without_doctype", _set("credentials", 1, value={"id": "m", "format": "mso_mdoc", "meta": {}}),
     "credentials[1].meta.doctype_value"),
    ("w3c_empty_type_set", _set("credentials", 1, value={"id": "w", "format": "ldp_vc", "meta": {"type_values": [[]]}}),
     "credentials[1].meta.type_values[0]"),
    ("multiple_string", _set(*C0, "multiple", value="true"), "credentials[0].multiple"),
    ("multiple_number", _set(*C0, "multiple", value=1), "credentials[0].multiple"),
    ("binding_null", _set(*C0, "require_cryptographic_holder_binding", value=None),
     "credentials[0].require_cryptographic_holder_binding"),
    ("claims_empty", _set(*C0, "claims", value=[]), "credentials[0].claims"),
    ("claims_object", _set(*C0, "claims", value={"employer": ["employer_name"]}), "credentials[0].claims"),
    ("claim_not_object", _set(*C0, "claims", 0, value=["employer_name"]), "credentials[0].claims[0]"),
    ("path_missing", _drop(*C0, "claims", 0, "path"), "credentials[0].claims[0].path"),
    ("path_empty", _set(*C0, "claims", 0, "path", value=[]), "credentials[0].claims[0].path"),
    ("path_string", _set(*C0, "claims", 0, "path", value="employer_name"), "credentials[0].claims[0].path"),
    ("path_negative", _set(*C0, "claims", 0, "path", value=["job_duties", -1]), "credentials[0].claims[0].path"),
    ("path_boolean", _set(*C0, "claims", 0, "path", value=["job_duties", True]), "credentials[0].claims[0].path"),
    ("path_float", _set(*C0, "claims", 0, "path", value=["job_duties", 1.0]), "credentials[0].claims[0].path"),
    ("path_object", _set(*C0, "claims", 0, "path", value=[{"$ne": 1}]), "credentials[0].claims[0].path"),
    ("values_empty", _set(*C0, "claims", 0, "values", value=[]), "credentials[0].claims[0].values"),
    ("values_string", _set(*C0, "claims", 0, "values", value="株式会社さくら精機"), "credentials[0].claims[0].values"),
    ("values_float", _set(*C0, "claims", 3, "values", value=[5400000.0]), "credentials[0].claims[3].values"),
    ("values_null", _set(*C0, "claims", 0, "values", value=[None]), "credentials[0].claims[0].values"),
    ("values_object", _set(*C0, "claims", 0, "values", value=[{"$regex": ".*"}]), "credentials[0].claims[0].values"),
    ("claim_id_empty", _set(*C0, "claims", 0, "id", value=""), "credentials[0].claims[0].id"),
    ("claim_id_space", _set(*C0, "claims", 0, "id", value="employer name"), "credentials[0].claims[0].id"),
    ("claim_id_repeated", _set(*C0, "claims", 1, "id", value="employer"), "credentials[0].claims"),
    ("claim_sets_without_claims", _drop(*C0, "claims"), "credentials[0].claim_sets"),
    ("claim_sets_claim_without_id", _drop(*C0, "claims", 2, "id"), "credentials[0].claim_sets"),
    ("claim_sets_empty", _set(*C0, "claim_sets", value=[]), "credentials[0].claim_sets"),
    ("claim_sets_empty_option", _set(*C0, "claim_sets", 0, value=[]), "credentials[0].claim_sets[0]"),
    ("claim_sets_unknown_id", _set(*C0, "claim_sets", 1, value=["employer", "bonus"]), "credentials[0].claim_sets[1]"),
    ("claim_sets_number", _set(*C0, "claim_sets", 0, value=["employer", 2]), "credentials[0].claim_sets[0][1]"),
    ("authorities_empty", _set(*C0, "trusted_authorities", value=[]), "credentials[0].trusted_authorities"),
    ("authority_without_values", _set(*C0, "trusted_authorities", value=[{"type": "aki"}]),
     "credentials[0].trusted_authorities[0].values"),
    ("authority_without_type", _set(*C0, "trusted_authorities", value=[{"values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]),
     "credentials[0].trusted_authorities[0].type"),
    ("credential_sets_empty", _set("credential_sets", value=[]), "credential_sets"),
    ("credential_sets_object", _set("credential_sets", value={"options": [["employment"]]}), "credential_sets"),
    ("credential_set_without_options", _set("credential_sets", 0, value={"required": True}), "credential_sets[0].options"),
    ("options_empty", _set("credential_sets", 0, "options", value=[]), "credential_sets[0].options"),
    ("option_empty", _set("credential_sets", 0, "options", value=[[]]), "credential_sets[0].options[0]"),
    ("option_unknown_id", _set("credential_sets", 0, "options", value=[["employment", "passport"]]),
     "credential_sets[0].options[0]"),
    ("option_not_array", _set("credential_sets", 0, "options", value=["employment"]), "credential_sets[0].options[0]"),
    ("required_string", _set("credential_sets", 0, "required", value="false"), "credential_sets[0].required"),
]


@pytest.mark.parametrize(("mutate", "field"), [(m, f) for _, m, f in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_invalid_query_is_rejected_naming_the_field(mutate: Callable[[dict[str, Any]], None], field: str) -> None:
    query = _base()
    mutate(query)
    with pytest.raises(InvalidDcqlQuery) as caught:
        parse_dcql_query(query)
    assert caught.value.reason.startswith(field + " "), caught.value.reason
    assert caught.value.details["field"] == field


@pytest.mark.parametrize("obj", [None, [], "{}", 42, ["credentials"]], ids=["null", "array", "text", "number", "list"])
def test_query_that_is_not_an_object_is_rejected(obj: object) -> None:
    with pytest.raises(InvalidDcqlQuery, match="^dcql_query must be a JSON object"):
        parse_dcql_query(obj)


def test_base_query_is_valid() -> None:
    parse_dcql_query(_base())


def test_unknown_members_and_formats_are_accepted() -> None:
    """§6: implementations MUST ignore unknown properties; unknown formats parse but never match."""
    query = _base()
    query["purpose"] = "rental screening"
    query["credentials"][0]["intent_to_retain"] = True
    query["credentials"][0]["claims"][0]["display"] = {"ja": "勤務先"}
    query["credentials"].append({"id": "anoncreds-1", "format": "ac_vp", "meta": {}})
    query["credential_sets"].append({"options": [["anoncreds-1"]], "required": False, "purpose": "x"})
    parsed = parse_dcql_query(query)
    assert parsed.credentials[2].format == "ac_vp"
    assert parsed.credentials[0].claims is not None and parsed.credentials[0].claims[0].path == ("employer_name",)


def test_values_keep_their_json_types() -> None:
    query = _base()
    query["credentials"][0]["claims"][3]["values"] = [5400000, True, "5400000"]
    claims = parse_dcql_query(query).credentials[0].claims
    assert claims is not None and claims[3].values == (5400000, True, "5400000")


def test_parsed_query_is_frozen() -> None:
    query = parse_dcql_query(_base())
    with pytest.raises(AttributeError):
        query.credentials[0].id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        query.credentials[0].meta["vct_values"] = []  # type: ignore[index]


# --- the wallet: matching a resident's credentials ----------------------------------------------

EMPLOYMENT: dict[str, Any] = {
    "iss": "https://hr.sakura-seiki.example",
    "vct": EMPLOYMENT_VCT,
    "employee_name": "NGUYEN VAN AN",
    "employer_name": "株式会社さくら精機",
    "employer_corporate_number": "1010001123456",
    "employment_type": "regular",
    "job_title": "ソフトウェアエンジニア",
    "job_duties": ["精密機器の組込みソフトウェア設計", "品質保証テストの計画", "海外拠点との技術調整"],
    "employment_start_date": "2021-04-01",
    "annual_salary": 5_400_000,
    "income_at_least": 5_000_000,
}
RESIDENCE: dict[str, Any] = {
    "iss": "https://immigration.example.go.jp",
    "vct": RESIDENCE_VCT,
    "family_name": "NGUYEN",
    "given_name": "VAN AN",
    "nationality_region": "VN",
    "address": {"postal_code": "113-0033", "prefecture": "東京都", "locality": "文京区", "street_address": "本郷7-3-1"},
    "status_of_residence": "engineer_specialist_in_humanities_international_services",
    "stay_expiry_date": "2027-03-31",
}
TAX: dict[str, Any] = {
    "iss": "https://city.bunkyo.example.lg.jp",
    "vct": TAX_VCT,
    "fiscal_year": 2026,
    "income_year": 2025,
    "non_taxable": False,
    "income_breakdown": [{"kind": "employment", "amount": 5_400_000}, {"kind": "miscellaneous", "amount": 120_000}],
}


def held(cred_id: str, claims: Mapping[str, Any], *, binding: bool = True) -> HeldCredential:
    return HeldCredential(cred_id, "dc+sd-jwt", claims["vct"], claims, binding)


def one(vct: str, *claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A query with one Credential Query ``q``."""
    entry: dict[str, Any] = {"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [vct]}, **extra}
    if claims:
        entry["claims"] = list(claims)
    return {"credentials": [entry]}


def test_match_discloses_exactly_the_paths_asked() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["employer_name"]}, {"path": ["employment_start_date"]}))
    result = match_query(query, [held("emp-1", EMPLOYMENT), held("rc-1", RESIDENCE)])
    assert result.satisfied
    assert result.candidates["q"] == (
        CandidateMatch("emp-1", (("employer_name",), ("employment_start_date",)), result.candidates["q"][0].options),
    )
    assert result.selection == {"q": result.candidates["q"]}


def test_no_claims_discloses_nothing_selectively_disclosable() -> None:
    """§6.4.1: without ``claims`` only what is mandatory to present (the SD-JWT and KB-JWT) goes."""
    result = match_query(parse_dcql_query(one(RESIDENCE_VCT)), [held("rc-1", RESIDENCE)])
    assert result.candidates["q"][0].paths == ()


def test_values_mismatch_is_treated_as_missing() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["employment_type"], "values": ["regular"]}))
    part_time = held("emp-2", {**EMPLOYMENT, "employment_type": "part-time"})
    result = match_query(query, [part_time])
    assert not result.satisfied and result.selection == {}
    mismatch = result.mismatches["q"]
    assert (mismatch.kind, mismatch.reason) == (
        "value_mismatch",
        f'no held credential of type {EMPLOYMENT_VCT} has employment_type equal to "regular"',
    )


@pytest.mark.parametrize(
    ("claim", "values", "matches"),
    [
        ("annual_salary", [5_400_000], True),
        ("annual_salary", ["5400000"], False),
        ("annual_salary", [5_400_000.0], None),
        ("non_taxable", [False], True),
        ("non_taxable", [0], False),
        ("fiscal_year", [True], False),
        ("fiscal_year", [2025, 2026], True),
    ],
    ids=["int", "string_for_int", "float_rejected", "bool", "zero_for_false", "true_for_int", "one_of_two"],
)
def test_values_match_type_and_value(claim: str, values: list[Any], matches: bool | None) -> None:
    """§6.3: "the type and value of the claim both match exactly"."""
    vct = EMPLOYMENT_VCT if claim == "annual_salary" else TAX_VCT
    raw = one(vct, {"path": [claim], "values": values})
    if matches is None:
        with pytest.raises(InvalidDcqlQuery):
            parse_dcql_query(raw)
        return
    result = match_query(parse_dcql_query(raw), [held("emp", EMPLOYMENT), held("tax", TAX)])
    assert result.satisfied is matches


def test_missing_nested_claim_is_named() -> None:
    query = parse_dcql_query(one(RESIDENCE_VCT, {"path": ["address", "locality"]}))
    no_locality = held("rc-old", {**RESIDENCE, "address": {"prefecture": "東京都"}})
    mismatch = match_query(query, [no_locality]).mismatches["q"]
    assert (mismatch.kind, mismatch.reason) == (
        "claim_missing",
        f"no held credential of type {RESIDENCE_VCT} has the claim address.locality",
    )


def test_wrong_type_is_named() -> None:
    mismatch = match_query(parse_dcql_query(one(TAX_VCT)), [held("emp-1", EMPLOYMENT)]).mismatches["q"]
    assert (mismatch.kind, mismatch.reason) == ("wrong_type", f"no held credential is of type {TAX_VCT}")


def test_the_closest_credential_explains_the_mismatch() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["department"]}))
    mismatch = match_query(query, [held("rc-1", RESIDENCE), held("emp-1", EMPLOYMENT)]).mismatches["q"]
    assert mismatch.kind == "claim_missing" and "the claim department" in mismatch.reason


def test_unsupported_format_is_named() -> None:
    raw = {"credentials": [{"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}}]}
    mismatch = match_query(parse_dcql_query(raw), [held("rc-1", RESIDENCE)]).mismatches["mdl"]
    assert (mismatch.kind, mismatch.reason) == ("unsupported_format", "Tsunagu cannot present the format 'mso_mdoc'")


def test_holder_binding_is_required_by_default() -> None:
    """§6.1 and B.3: an SD-JWT without ``cnf`` cannot answer unless the verifier waives holder binding."""
    unbound = held("emp-paper", EMPLOYMENT, binding=False)
    mismatch = match_query(parse_dcql_query(one(EMPLOYMENT_VCT)), [unbound]).mismatches["q"]
    assert mismatch.kind == "holder_binding_missing" and "bound to a key" in mismatch.reason
    waived = one(EMPLOYMENT_VCT, require_cryptographic_holder_binding=False)
    assert match_query(parse_dcql_query(waived), [unbound]).satisfied


def test_array_wildcard_is_disclosed_as_given() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["job_duties", None]}))
    assert match_query(query, [held("emp-1", EMPLOYMENT)]).candidates["q"][0].paths == (("job_duties", None),)


def test_wildcard_with_values_discloses_only_the_matching_elements() -> None:
    """§6.4.1: a non-matching element is treated as absent, and unselected claims MUST NOT be sent."""
    query = parse_dcql_query(one(TAX_VCT, {"path": ["income_breakdown", None, "kind"], "values": ["employment"]}))
    assert match_query(query, [held("tax", TAX)]).candidates["q"][0].paths == (("income_breakdown", 0, "kind"),)
    duties = one(EMPLOYMENT_VCT, {"path": ["job_duties", None], "values": ["品質保証テストの計画", "経理"]})
    assert match_query(parse_dcql_query(duties), [held("emp", EMPLOYMENT)]).candidates["q"][0].paths == (
        ("job_duties", 1),
    )


def test_wildcard_over_an_empty_array_is_missing() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["job_duties", None]}))
    result = match_query(query, [held("emp-new", {**EMPLOYMENT, "job_duties": []})])
    assert result.mismatches["q"].kind == "claim_missing"


def test_claim_sets_prefer_the_first_option_and_offer_sharing_less() -> None:
    """The landlord prefers an income band to the exact salary (least disclosure first)."""
    query = parse_dcql_query(_base())
    both = held("emp-1", EMPLOYMENT)
    salary_only = held("emp-old", {k: v for k, v in EMPLOYMENT.items() if k != "income_at_least"})
    result = match_query(query, [both, salary_only, held("rc-1", RESIDENCE)])
    first, second = result.candidates["employment"]
    band = (("employer_name",), ("employment_start_date",), ("income_at_least",))
    salary = (("employer_name",), ("employment_start_date",), ("annual_salary",))
    assert (first.credential_id, first.paths, [o.paths for o in first.options]) == ("emp-1", band, [band, salary])
    assert [o.claim_ids for o in first.options] == [("employer", "since", "band"), ("employer", "since", "salary")]
    assert (second.credential_id, second.paths, [o.paths for o in second.options]) == ("emp-old", salary, [salary])


def test_claim_sets_none_satisfiable_explains_the_preferred_option() -> None:
    no_income = held("emp-x", {k: v for k, v in EMPLOYMENT.items() if k not in ("income_at_least", "annual_salary")})
    mismatch = match_query(parse_dcql_query(_base()), [no_income, held("rc-1", RESIDENCE)]).mismatches["employment"]
    assert mismatch.kind == "claim_missing" and mismatch.reason.endswith("has the claim income_at_least")


def _kyc(required_employment: bool) -> dict[str, Any]:
    """Bank KYC: the residence card is required; the employer (occupation) only conditionally."""
    return {
        "credentials": [
            {"id": "residence", "format": "dc+sd-jwt", "meta": {"vct_values": [RESIDENCE_VCT]},
             "claims": [{"path": ["family_name"]}, {"path": ["stay_expiry_date"]}]},
            {"id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [EMPLOYMENT_VCT]},
             "claims": [{"path": ["employer_name"]}]},
        ],
        "credential_sets": [
            {"options": [["residence"]]},
            {"options": [["employment"]], "required": required_employment},
        ],
    }  # fmt: skip


def test_optional_credential_set_may_be_unmet() -> None:
    result = match_query(parse_dcql_query(_kyc(required_employment=False)), [held("rc-1", RESIDENCE)])
    assert result.satisfied
    assert [s.satisfiable_options for s in result.credential_sets] == [(("residence",),), ()]
    assert list(result.selection) == ["residence"]


def test_optional_credential_set_is_left_for_the_resident_to_add() -> None:
    result = match_query(parse_dcql_query(_kyc(required_employment=False)), [held("rc-1", RESIDENCE), held("e", EMPLOYMENT)])
    assert list(result.selection) == ["residence"] and result.candidates["employment"][0].credential_id == "e"


def test_required_credential_set_must_be_met() -> None:
    result = match_query(parse_dcql_query(_kyc(required_employment=True)), [held("rc-1", RESIDENCE)])
    assert not result.satisfied and result.selection == {}
    assert result.mismatches["employment"].kind == "wrong_type"


def test_without_credential_sets_every_query_is_required() -> None:
    raw = _kyc(required_employment=False)
    del raw["credential_sets"]
    assert not match_query(parse_dcql_query(raw), [held("rc-1", RESIDENCE)]).satisfied


@pytest.mark.parametrize("multiple", [False, True])
def test_multiple_decides_how_many_candidates_are_presented(multiple: bool) -> None:
    """A resident who changed jobs holds two employment certificates."""
    previous = held("emp-prev", {**EMPLOYMENT, "employer_name": "合同会社みなと物流", "employment_start_date": "2018-10-01"})
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["employer_name"]}, multiple=multiple))
    result = match_query(query, [held("emp-1", EMPLOYMENT), previous])
    assert [c.credential_id for c in result.candidates["q"]] == ["emp-1", "emp-prev"]
    assert [c.credential_id for c in result.selection["q"]] == (["emp-1", "emp-prev"] if multiple else ["emp-1"])


def test_repeated_path_is_disclosed_once() -> None:
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["employer_name"]}, {"path": ["employer_name"]}))
    assert match_query(query, [held("emp-1", EMPLOYMENT)]).candidates["q"][0].paths == (("employer_name",),)


# --- the verifier: checking a vp_token ----------------------------------------------------------


def presented(claims: Mapping[str, Any], *, bound: bool = True, vct: str | None = None) -> PresentedCredential:
    return PresentedCredential(vct or claims["vct"], claims, bound)


RENTAL_EMPLOYMENT = {"vct": EMPLOYMENT_VCT, "employer_name": "株式会社さくら精機", "employment_start_date": "2021-04-01",
                     "income_at_least": 5_000_000}  # fmt: skip
RENTAL_RESIDENCE = {"vct": RESIDENCE_VCT, "family_name": "NGUYEN"}


def test_complete_vp_token_passes() -> None:
    check_vp_token(
        parse_dcql_query(_base()),
        {"employment": [presented(RENTAL_EMPLOYMENT)], "residence": [presented(RENTAL_RESIDENCE)]},
    )


def test_the_less_preferred_claim_set_also_answers() -> None:
    salary = {k: v for k, v in RENTAL_EMPLOYMENT.items() if k != "income_at_least"} | {"annual_salary": 5_400_000}
    check_vp_token(parse_dcql_query(_base()), {"employment": [presented(salary)], "residence": [presented(RENTAL_RESIDENCE)]})


VERIFIER_FAILURES: list[tuple[str, dict[str, Any], Mapping[str, list[PresentedCredential]], str]] = [
    ("missing_query_id", one(RESIDENCE_VCT), {}, "the vp_token has no presentation for q"),
    ("extra_id", one(RESIDENCE_VCT), {"q": [presented(RESIDENCE)], "passport": [presented(RESIDENCE)]},
     "the vp_token answers 'passport', which the query does not ask"),
    ("two_when_multiple_false", one(RESIDENCE_VCT), {"q": [presented(RESIDENCE), presented(RESIDENCE)]},
     "the vp_token has 2 presentations for 'q', not exactly one"),
    ("empty_entry", one(RESIDENCE_VCT, multiple=True), {"q": []}, "the vp_token has 0 presentations for 'q', not one or more"),
    ("values_mismatch", one(EMPLOYMENT_VCT, {"path": ["employment_type"], "values": ["regular"]}),
     {"q": [presented({**EMPLOYMENT, "employment_type": "dispatch"})]},
     "presentation 0 for 'q' lacks employment_type equal to \"regular\""),
    ("claim_not_disclosed", one(RESIDENCE_VCT, {"path": ["stay_expiry_date"]}),
     {"q": [presented({"vct": RESIDENCE_VCT, "family_name": "NGUYEN"})]}, "presentation 0 for 'q' lacks the claim stay_expiry_date"),
    ("wrong_vct", one(RESIDENCE_VCT), {"q": [presented(EMPLOYMENT)]},
     f"presentation 0 for 'q' is of type {EMPLOYMENT_VCT}, not {RESIDENCE_VCT}"),
    ("not_holder_bound", one(RESIDENCE_VCT), {"q": [presented(RESIDENCE, bound=False)]},
     "presentation 0 for 'q' has no holder binding, which the query requires"),
    ("second_of_multiple_bad", one(EMPLOYMENT_VCT, {"path": ["employer_name"]}, multiple=True),
     {"q": [presented(EMPLOYMENT), presented({"vct": EMPLOYMENT_VCT})]}, "presentation 1 for 'q' lacks the claim employer_name"),
    ("no_claim_set_met", _base(), {"employment": [presented({"vct": EMPLOYMENT_VCT, "employer_name": "x",
     "employment_start_date": "2021-04-01"})], "residence": [presented(RENTAL_RESIDENCE)]},
     "presentation 0 for 'employment' lacks the claim income_at_least"),
    ("required_set_unanswered", _kyc(required_employment=True), {"residence": [presented(RESIDENCE)]},
     "credential_sets[1] is required but unanswered; it needs employment"),
    ("mdoc_answer", {"credentials": [{"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}}]},
     {"mdl": [presented(RESIDENCE)]}, "presentation 0 for 'mdl' answers a query for format 'mso_mdoc', which Tsunagu does not verify"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "token", "reason"), [c[1:] for c in VERIFIER_FAILURES], ids=[c[0] for c in VERIFIER_FAILURES])
def test_incomplete_vp_token_is_refused(raw: dict[str, Any], token: Mapping[str, list[PresentedCredential]], reason: str) -> None:
    with pytest.raises(DcqlNotSatisfied) as caught:
        check_vp_token(parse_dcql_query(raw), token)
    assert caught.value.reason == reason


def test_optional_set_may_be_unanswered_and_multiple_may_be_many() -> None:
    check_vp_token(parse_dcql_query(_kyc(required_employment=False)), {"residence": [presented(RESIDENCE)]})
    query = parse_dcql_query(one(EMPLOYMENT_VCT, {"path": ["employer_name"]}, multiple=True))
    check_vp_token(query, {"q": [presented(EMPLOYMENT), presented({**EMPLOYMENT, "employer_name": "合同会社みなと物流"})]})


# --- vp_token (§8.1) ----------------------------------------------------------------------------

SD_JWT = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCJ9.eyJ2Y3QiOiJ4In0.c2ln~WyJzYWx0IiwiYSIsMV0~"


@pytest.mark.parametrize(
    "token",
    [{"my_credential": [SD_JWT]}, json.dumps({"my_credential": [SD_JWT]}), json.dumps({"my_credential": [SD_JWT]}).encode()],
    ids=["object", "json_text", "json_bytes"],
)
def test_vp_token_parses(token: object) -> None:
    assert parse_vp_token(token) == {"my_credential": (SD_JWT,)}


def test_spec_vp_token_examples_parse() -> None:
    """§8.1.1, shortened as in the spec."""
    assert parse_vp_token({"my_credential": ["eyJhbGci...QMA"]}) == {"my_credential": ("eyJhbGci...QMA",)}
    assert parse_vp_token('{"my_credential": ["eyJhbGci...QMA", "eyJhbGci...QMA"]}') == {
        "my_credential": ("eyJhbGci...QMA", "eyJhbGci...QMA")
    }


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGci...QMA",
        '{"a": ["x"], "a": ["y"]}',
        b"\xff",
        ["eyJhbGci...QMA"],
        None,
        {"my credential": [SD_JWT]},
        {"": [SD_JWT]},
        {"my_credential": SD_JWT},
        {"my_credential": []},
        {"my_credential": [""]},
        {"my_credential": [{"vp": "ldp"}]},
        {"my_credential": [SD_JWT, 1]},
    ],
    ids=["bare_presentation", "duplicate_key", "not_utf8", "array", "null", "bad_key", "empty_key", "string_value",
         "empty_array", "empty_presentation", "object_presentation", "mixed"],
)  # fmt: skip
def test_malformed_vp_token_is_rejected(token: object) -> None:
    with pytest.raises(InvalidVpToken):
        parse_vp_token(token)


# --- properties ---------------------------------------------------------------------------------

WORDS = ["credentials", "credential_sets", "id", "format", "meta", "claims", "claim_sets", "values", "path", "options",
         "required", "multiple", "vct_values", "doctype_value", "type_values", "trusted_authorities", "type",
         "require_cryptographic_holder_binding", "dc+sd-jwt", "mso_mdoc", "ldp_vc", "a", "b", "q", "employer_name"]  # fmt: skip
scalars = (
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS) | st.text(max_size=6)
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=4), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_only_ever_raises_invalid_dcql_query(obj: Any) -> None:
    try:
        parse_dcql_query(obj)
    except TsunaguError as exc:
        assert isinstance(exc, InvalidDcqlQuery)


def _mutations(draw: st.DrawFn) -> dict[str, Any]:
    query = _base()
    first = query["credentials"][0]
    targets = [query, first, first["claims"][0], first["meta"], query["credential_sets"][0]]
    for _ in range(draw(st.integers(1, 3))):
        draw(st.sampled_from(targets))[draw(st.sampled_from(WORDS))] = draw(json_values)
    return query


@settings(max_examples=300, deadline=None)
@given(st.composite(_mutations)(), json_values)
def test_near_valid_queries_parse_or_fail_cleanly_and_match_anything(raw: dict[str, Any], claims: Any) -> None:
    try:
        query = parse_dcql_query(copy.deepcopy(raw))
    except InvalidDcqlQuery:
        return
    payload = {"vct": EMPLOYMENT_VCT, "employer_name": claims, "annual_salary": claims}
    result = match_query(query, [held("emp", EMPLOYMENT), held("odd", payload)])
    assert set(result.candidates) == {q.id for q in query.credentials}
    try:
        check_vp_token(query, {qid: [presented(payload)] for qid in result.candidates})
    except DcqlNotSatisfied:
        pass


@settings(max_examples=300, deadline=None)
@given(json_values, st.lists(st.none() | st.integers(0, 3) | st.sampled_from(WORDS), min_size=1, max_size=4))
def test_claims_path_processing_only_raises_claims_path_not_found(claims: Any, path: list[Any]) -> None:
    try:
        select_claim_paths(claims if isinstance(claims, Mapping) else {"employer_name": claims}, tuple(path))
    except ClaimsPathNotFound:
        pass


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_vp_token_only_ever_raises_invalid_vp_token(obj: Any) -> None:
    for candidate in (obj, json.dumps(obj)):
        try:
            parse_vp_token(candidate)
        except TsunaguError as exc:
            assert isinstance(exc, InvalidVpToken)
