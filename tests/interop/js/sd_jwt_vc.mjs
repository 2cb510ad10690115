// SD-JWT VC through @sd-jwt/sd-jwt-vc, for tests/interop/test_sd_jwt_vc_npm.py.
//
// Reads one JSON request from stdin, writes one JSON answer to stdout:
//   {"op": "issue", "claims", "disclosure_frame", "issuer_jwk" (private), "holder_jwk" (public) | null, "header"?}
//                                                                  -> {"credential"}
//   {"op": "present", "credential", "presentation_frame", "holder_jwk" (private), "aud", "nonce", "iat"}
//                                                                  -> {"presentation"}
//   {"op": "verify", "presentation", "issuer_jwk" (public), "aud", "nonce", "require_kb", "now"}
//                                                                  -> {"claims", "header", "kb"} or {"error"}
// The package does all SD-JWT work (packing, decoys, selection, digests, sd_hash, the KB-JWT, the
// validity period at "now"). Signing, signature checks, hashing and salts come from
// @sd-jwt/crypto-nodejs, except Ed25519, which it lacks: that is node:crypto.
//
// One check is made here and not by the package: the package verifies the KB-JWT's signature,
// nonce and sd_hash, but never its "aud" (0.19.0, core/src/kbjwt.ts verifyKB). A verifier built on it
// has to compare "aud" itself, so "verify" does, after the package accepted the presentation.
//
// A failure of the package on the input is an answer ({"error"}); a bad request exits non-zero.

import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ES256, ES384, ES512, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

const EdDSA = {
  alg: 'EdDSA',
  async getSigner(privateJwk) {
    const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
    return (data) => nodeSign(null, Buffer.from(data), key).toString('base64url');
  },
  async getVerifier(publicJwk) {
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    return (data, signature) => nodeVerify(null, Buffer.from(data), key, Buffer.from(signature, 'base64url'));
  },
};
const ALGORITHMS = { ES256, ES384, ES512, EdDSA };

// The JWK's own "alg", else the one its curve is used with: the key decides, never a token header.
function algorithmOf(jwk) {
  const alg = jwk.alg ?? { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' }[jwk.crv];
  if (!(alg in ALGORITHMS)) throw new Error(`unsupported key: ${JSON.stringify({ kty: jwk.kty, crv: jwk.crv })}`);
  return alg;
}

// The private members are what a signer needs; a public JWK for "cnf" must not carry them.
function publicPart(jwk) {
  const { d, ...rest } = jwk;
  return rest;
}

const ops = {
  async issue({ claims, disclosure_frame, issuer_jwk, holder_jwk, header }) {
    const alg = algorithmOf(issuer_jwk);
    const sdjwt = new SDJwtVcInstance({
      signer: await ALGORITHMS[alg].getSigner(issuer_jwk),
      signAlg: alg,
      hasher: digest,
      hashAlg: 'sha-256',
      saltGenerator: generateSalt,
    });
    const payload = holder_jwk ? { ...claims, cnf: { jwk: publicPart(holder_jwk) } } : claims;
    const kid = issuer_jwk.kid ? { kid: issuer_jwk.kid } : {};
    return { credential: await sdjwt.issue(payload, disclosure_frame, { header: { ...kid, ...header } }) };
  },

  async present({ credential, presentation_frame, holder_jwk, aud, nonce, iat }) {
    const alg = algorithmOf(holder_jwk);
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      kbSigner: await ALGORITHMS[alg].getSigner(holder_jwk),
      kbSignAlg: alg,
    });
    const presentation = await sdjwt.present(credential, presentation_frame, {
      kb: { payload: { iat, aud, nonce } },
    });
    return { presentation };
  },

  async verify({ presentation, issuer_jwk, aud, nonce, require_kb, now }) {
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      verifier: await ALGORITHMS[algorithmOf(issuer_jwk)].getVerifier(issuer_jwk),
      // The holder key is the credential's cnf.jwk, which the package hands to this callback.
      kbVerifier: async (data, signature, payload) => {
        const jwk = payload?.cnf?.jwk;
        if (!jwk) throw new Error('the credential names no holder key (cnf.jwk)');
        return (await ALGORITHMS[algorithmOf(jwk)].getVerifier(jwk))(data, signature);
      },
    });
    try {
      const result = await sdjwt.verify(presentation, {
        currentDate: now,
        ...(require_kb ? { keyBindingNonce: nonce } : {}),
      });
      if (require_kb && result.kb?.payload?.aud !== aud) {
        return { error: `KB-JWT aud ${JSON.stringify(result.kb?.payload?.aud)} is not ${JSON.stringify(aud)}` };
      }
      return { claims: result.payload, header: result.header, kb: result.kb ?? null };
    } catch (err) {
      return { error: String(err?.message ?? err) };
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
