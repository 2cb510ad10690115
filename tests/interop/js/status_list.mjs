// Token Status List through @sd-jwt/jwt-status-list, for tests/interop/test_status_list_interop.py.
//
// Reads one JSON request from stdin, writes one JSON answer to stdout:
//   {"op": "encode", "bits", "size", "statuses": {idx: value}}     -> {"lst"}
//   {"op": "decode", "bits", "lst"}                                 -> {"size", "non_valid": {idx: value}}
//   {"op": "sign_token", "private_jwk", "bits", "size", "statuses", "claims": {sub, iat, exp?, ttl?}}
//                                                                   -> {"token"}
//   {"op": "read_token", "token", "public_jwk"}                     -> {"header", "payload", "signature_valid",
//                                                                       "size", "non_valid"} or {"error"}
// Only the package's own API builds and reads lists; @sd-jwt/crypto-nodejs signs and verifies, because
// jwt-status-list itself leaves signing and signature checks to the caller (its README says so).
// A failure of the package on the input is an answer ({"error"}); a bad request exits non-zero.

import { ES256, ES384, ES512 } from '@sd-jwt/crypto-nodejs';
import { StatusList, createHeaderAndPayload, getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const SIGNERS = { ES256, ES384, ES512 };

function denseList(size, statuses) {
  const list = new Array(size).fill(0);
  for (const [idx, value] of Object.entries(statuses)) list[Number(idx)] = value;
  return list;
}

function nonValid(list) {
  const out = {};
  list.statusList.forEach((value, idx) => {
    if (value !== 0) out[idx] = value;
  });
  return out;
}

const b64urlJson = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const fromB64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function algorithmOf(jwk) {
  const alg = jwk.alg ?? { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv];
  if (!(alg in SIGNERS)) throw new Error(`unsupported key: ${JSON.stringify({ kty: jwk.kty, crv: jwk.crv })}`);
  return alg;
}

const ops = {
  encode({ bits, size, statuses }) {
    return { lst: new StatusList(denseList(size, statuses), bits).compressStatusList() };
  },

  decode({ bits, lst }) {
    try {
      const list = StatusList.decompressStatusList(lst, bits);
      return { size: list.statusList.length, non_valid: nonValid(list) };
    } catch (err) {
      return { error: String(err) };
    }
  },

  async sign_token({ private_jwk, bits, size, statuses, claims }) {
    const alg = algorithmOf(private_jwk);
    const header = { alg, typ: 'statuslist+jwt', ...(private_jwk.kid ? { kid: private_jwk.kid } : {}) };
    const values = createHeaderAndPayload(new StatusList(denseList(size, statuses), bits), { ...claims }, header);
    const signingInput = `${b64urlJson(values.header)}.${b64urlJson(values.payload)}`;
    const signature = await (await SIGNERS[alg].getSigner(private_jwk))(signingInput);
    return { token: `${signingInput}.${signature}` };
  },

  async read_token({ token, public_jwk }) {
    const [header, payload, signature] = token.split('.');
    const verify = await SIGNERS[algorithmOf(public_jwk)].getVerifier(public_jwk);
    const answer = {
      header: fromB64urlJson(header),
      payload: fromB64urlJson(payload),
      signature_valid: await verify(`${header}.${payload}`, signature),
    };
    try {
      const list = getListFromStatusListJWT(token);
      return { ...answer, size: list.statusList.length, non_valid: nonValid(list) };
    } catch (err) {
      return { ...answer, error: String(err) };
    }
  },
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
if (!(request.op in ops)) {
  process.stderr.write(`unknown op ${JSON.stringify(request.op)}; known: ${Object.keys(ops).join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await ops[request.op](request)));
