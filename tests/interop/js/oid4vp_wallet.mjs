// An OpenID4VP 1.0 wallet built on @openid4vc/openid4vp (Openid4vpClient) and @sd-jwt/sd-jwt-vc,
// for tests/interop/test_openid4vc_npm.py: answers a live verifier's signed request.
//
// Reads one JSON request from stdin:
//   {"authorization_request_uri": "openid4vp://?client_id=...&request_uri=...",
//    "credential": "<SD-JWT VC>~...~", "holder_private_jwk": {...}, "trusted_root_pem": "-----BEGIN...",
//    "disclose": ["employer_name", ...], "allow_http"?: false, "submit"?: true}
// and writes one JSON answer to stdout:
//   {"request": {client_id, client_id_prefix, response_uri, response_mode, nonce, state, dcql_query,
//                verifier_info, version, jar_typ, x5c_subjects},
//    "query_id", "requested", "disclosed", "presentation", "response_payload",
//    "verifier_response": {status, body} | null, "requests"}
// or {"error": {name, message, status?, body?}, "step": "parse" | "resolve" | "match" | "present"
// | "submit", "requests"} when the package, the trust check or the query match refuses.
//
// The package does the protocol: it parses the openid4vp:// URI, fetches the request object from
// request_uri, checks its typ (oauth-authz-req+jwt), that client_id in the URI equals the one in the
// object, the client_id prefix rules (x509_san_dns: a dNSName SAN of the leaf equals the identifier
// and the response_uri host matches it; x509_hash: the identifier is the leaf's SHA-256), the
// signature through verifyJwt, exp/nbf, the response_mode/response_uri pairing, and the shape of
// client_metadata, dcql_query and verifier_info; then builds and POSTs the direct_post response.
// verifyJwt (openid4vc_callbacks.mjs) checks the x5c chain up to "trusted_root_pem" — the trust
// decision the package leaves to the wallet.
//
// Left to this script, because the package does not do it: matching the DCQL query against the
// credential (OpenID4VP 1.0 §6: format, meta.vct_values, claims paths and values, claim_sets) and
// building the SD-JWT VC presentation (@sd-jwt/sd-jwt-vc: only the chosen disclosures, a KB-JWT
// with the request's nonce and aud = the full client_id, prefix included, §B.3.6).
// The resident's choice is "disclose": top-level claim names. The wallet answers with the first
// claim set (or, without claim sets, all the query's claims) lying within that choice, and
// discloses exactly its claims; naming a claim the query does not ask for is refused. One
// credential answers one credential query: credential_sets asking for several at once are out of
// scope here (the tests ask for one employment certificate).

import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { digest } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { X509Certificate } from 'node:crypto';
import {
  algorithmOfJwk,
  callbacks,
  describeError,
  readJsonStdin,
  signBase64url,
} from './openid4vc_callbacks.mjs';

const request = await readJsonStdin();
for (const field of ['authorization_request_uri', 'credential', 'trusted_root_pem']) {
  if (typeof request[field] !== 'string') {
    process.stderr.write(`"${field}" must be a string\n`);
    process.exit(2);
  }
}
if (typeof request.holder_private_jwk?.d !== 'string' || !Array.isArray(request.disclose)) {
  process.stderr.write('"holder_private_jwk" must be a private JWK and "disclose" a list of claim names\n');
  process.exit(2);
}
setGlobalConfig({ allowInsecureUrls: request.allow_http === true });

const requests = [];
const client = new Openid4vpClient({
  callbacks: callbacks({ trustedRootPem: request.trusted_root_pem, log: requests }),
});

// --- DCQL (OpenID4VP 1.0 §6) over one SD-JWT VC ------------------------------------------------------

// The values a claims path selects (§7.1): a string key, an array index, or null for every element.
function select(claims, path) {
  let current = [claims];
  for (const component of path) {
    const next = [];
    for (const value of current) {
      if (component === null && Array.isArray(value)) next.push(...value);
      else if (typeof component === 'number' && Array.isArray(value) && component < value.length) next.push(value[component]);
      else if (typeof component === 'string' && value && typeof value === 'object' && !Array.isArray(value) && component in value) next.push(value[component]);
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current;
}

function claimMatches(claims, claim) {
  const found = select(claims, claim.path);
  if (found.length === 0) return false;
  return !claim.values || found.some((value) => claim.values.includes(value));
}

// The ways this credential can answer one credential query: each a list of claims queries, in the
// Verifier's order of preference (§6.4.1: one per claim set, or all claims when there are no claim
// sets); empty when the credential does not fit the query at all.
function answerOptions(query, vct, claims) {
  if (query.format !== 'dc+sd-jwt') return [];
  if (query.meta?.vct_values && !query.meta.vct_values.includes(vct)) return [];
  const all = query.claims ?? [];
  const sets = query.claim_sets ?? [all.map((claim) => claim.id)];
  const options = [];
  for (const ids of sets) {
    const chosen = query.claim_sets ? all.filter((claim) => ids.includes(claim.id)) : all;
    if (chosen.every((claim) => claimMatches(claims, claim))) options.push(chosen);
  }
  return options;
}

// A @sd-jwt presentation frame disclosing exactly these paths. An array index or null (every
// element) ends the walk: the frame then discloses the array as a whole, which is at least what
// was asked and all the wallet can name without knowing the issued array's decoy positions.
function presentationFrame(paths) {
  const frame = {};
  for (const path of paths) {
    let node = frame;
    for (let i = 0; i < path.length; i++) {
      const name = path[i];
      const next = path[i + 1];
      if (i === path.length - 1 || typeof next !== 'string') {
        node[name] = true;
        break;
      }
      if (node[name] === true) break;
      node = node[name] ??= {};
    }
  }
  return frame;
}

// --- the flow ------------------------------------------------------------------------------------------

let step = 'parse';
try {
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: request.authorization_request_uri });
  if (parsed.type !== 'jar') throw new Error(`the request is not a signed request object (type ${parsed.type})`);

  step = 'resolve';
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const payload = resolved.authorizationRequestPayload;
  if (!resolved.jar || resolved.jar.signer.method !== 'x5c') throw new Error('the request object is not signed with an x5c chain');
  const summary = {
    client_id: payload.client_id,
    client_id_prefix: resolved.client.prefix,
    response_uri: payload.response_uri ?? null,
    response_mode: payload.response_mode ?? null,
    nonce: payload.nonce,
    state: payload.state ?? null,
    dcql_query: resolved.dcql?.query ?? null,
    verifier_info: payload.verifier_info ?? null,
    client_metadata: payload.client_metadata ?? null,
    version: resolved.version,
    jar_typ: resolved.jar.jwt.header.typ,
    jar_sent_by: resolved.jar.sendBy,
    x5c_subjects: resolved.jar.signer.x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')).subject),
  };

  step = 'match';
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    kbSigner: (input) => signBase64url(request.holder_private_jwk, input),
    kbSignAlg: algorithmOfJwk(request.holder_private_jwk),
  });
  const claims = await sdjwt.getClaims(request.credential);
  const queries = resolved.dcql?.query?.credentials;
  if (!Array.isArray(queries)) throw new Error('the request carries no DCQL credentials query');
  // The first credential query, and within it the first option (claim set), that this credential
  // satisfies with only the claims the resident agreed to share.
  const asked = new Set(queries.flatMap((query) => (query.claims ?? []).map((claim) => claim.path[0])));
  const unrequested = request.disclose.filter((name) => !asked.has(name));
  if (unrequested.length > 0) throw new Error(`refusing to disclose claims the verifier did not ask for: ${unrequested.join(', ')}`);
  let match = null;
  for (const query of queries) {
    const options = answerOptions(query, claims.vct, claims);
    const option = options.find((claimsQueries) => claimsQueries.every((claim) => request.disclose.includes(claim.path[0])));
    if (option) {
      match = { query, option };
      break;
    }
  }
  if (!match) {
    throw new Error(`no credential query is satisfied by a ${claims.vct} credential sharing only ${request.disclose.join(', ')}`);
  }
  const requestedNames = [...asked];
  const paths = match.option.map((claim) => claim.path);

  step = 'present';
  const presentation = await sdjwt.present(request.credential, presentationFrame(paths), {
    kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: payload.client_id, nonce: payload.nonce } },
  });
  const { authorizationResponsePayload } = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: { vp_token: { [match.query.id]: [presentation] } },
  });

  let verifierResponse = null;
  if (request.submit !== false) {
    step = 'submit';
    const { response } = await client.submitOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: payload,
      authorizationResponsePayload,
    });
    const text = await response.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text, the test shows it
    }
    verifierResponse = { status: response.status, content_type: response.headers.get('content-type'), body };
  }

  process.stdout.write(JSON.stringify({
    request: summary,
    query_id: match.query.id,
    requested: requestedNames,
    disclosed: [...new Set(paths.map((path) => path[0]))],
    presentation,
    response_payload: authorizationResponsePayload,
    verifier_response: verifierResponse,
    requests,
  }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: describeError(error), step, requests }));
}
