// The callbacks the @openid4vc packages leave to their caller, built on node:crypto only, shared by
// oid4vci_client.mjs and oid4vp_wallet.mjs.
//
// The packages do no cryptography themselves: they hand every signature, hash, random value, JWT
// verification and X.509 question to these callbacks (oauth2 0.4.6, src/callbacks.ts). So what is
// judged in the interop tests is the packages' protocol logic — which fields they send and expect,
// which checks they make — while the cryptography is node:crypto's.

import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';

const HASHES = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };
const ALGORITHMS = {
  ES256: { digest: 'sha256', crv: 'P-256' },
  ES384: { digest: 'sha384', crv: 'P-384' },
  ES512: { digest: 'sha512', crv: 'P-521' },
  EdDSA: { digest: null, crv: 'Ed25519' },
};

export function algorithmOfJwk(jwk) {
  const alg = jwk.alg ?? Object.keys(ALGORITHMS).find((name) => ALGORITHMS[name].crv === jwk.crv);
  if (!(alg in ALGORITHMS)) throw new Error(`unsupported key: ${JSON.stringify({ kty: jwk.kty, crv: jwk.crv })}`);
  return alg;
}

export function publicPart(jwk) {
  const { d, ...rest } = jwk;
  return rest;
}

export function generateHolderKey(alg = 'ES256') {
  if (!(alg in ALGORITHMS)) throw new Error(`unsupported alg ${JSON.stringify(alg)}`);
  const { privateKey } = alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: ALGORITHMS[alg].crv });
  return privateKey.export({ format: 'jwk' });
}

const b64url = (data) => Buffer.from(data).toString('base64url');

// JOSE ECDSA signatures are r || s (RFC 7518 §3.4), hence ieee-p1363 rather than node's DER default.
function signInput(alg, privateJwk, input) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const { digest } = ALGORITHMS[alg];
  return digest === null
    ? nodeSign(null, Buffer.from(input), key)
    : nodeSign(digest, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
}

function verifyInput(alg, publicKey, input, signature) {
  const { digest } = ALGORITHMS[alg];
  return digest === null
    ? nodeVerify(null, Buffer.from(input), publicKey, signature)
    : nodeVerify(digest, Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

// A detached JWS signature over `input`, base64url: what @sd-jwt's Signer callbacks return.
export function signBase64url(privateJwk, input) {
  return b64url(signInput(algorithmOfJwk(privateJwk), privateJwk, input));
}

export function signCompactJwt(header, payload, privateJwk) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(signInput(header.alg, privateJwk, input))}`;
}

function verifyCompactJwt(compact, alg, publicKey) {
  if (!(alg in ALGORITHMS)) return false;
  const [header, payload, signature] = compact.split('.');
  return verifyInput(alg, publicKey, `${header}.${payload}`, Buffer.from(signature, 'base64url'));
}

/**
 * Check an x5c chain (leaf first, base64 DER) up to one trusted root (PEM), at `now`: each
 * certificate issued and signed by the next, every issuer a CA, every certificate within its
 * validity period, and the last one either the root itself or issued and signed by it.
 * Returns the leaf certificate; throws with the first broken link.
 */
export function verifyX5cChain(x5c, trustedRootPem, now = new Date()) {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new Error('x5c is empty');
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
  const root = new X509Certificate(trustedRootPem);
  for (const cert of [...chain, root]) {
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      throw new Error(`certificate ${cert.subject} is not valid at ${now.toISOString()}`);
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i], chain[i + 1]];
    if (!parent.ca) throw new Error(`x5c[${i + 1}] (${parent.subject}) is not a CA`);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new Error(`x5c[${i}] (${child.subject}) is not signed by x5c[${i + 1}]`);
    }
  }
  const last = chain[chain.length - 1];
  if (last.fingerprint256 !== root.fingerprint256) {
    if (!root.ca) throw new Error('the trusted root is not a CA certificate');
    if (!last.checkIssued(root) || !last.verify(root.publicKey)) {
      throw new Error(`x5c does not chain to the trusted root (${last.issuer} vs ${root.subject})`);
    }
  }
  return chain[0];
}

// "DNS:a.example, URI:https://b.example" -> names by kind (node:crypto X509Certificate.subjectAltName).
export function subjectAltNames(certificate) {
  const names = { sanDnsNames: [], sanUriNames: [] };
  for (const entry of (certificate.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.sanDnsNames.push(entry.slice(4));
    if (entry.startsWith('URI:')) names.sanUriNames.push(entry.slice(4));
  }
  return names;
}

/**
 * A CallbackContext (oauth2 0.4.6 CallbackContext) over a set of private JWKs.
 *
 * signJwt signs with the key whose public part the signer names; verifyJwt accepts "jwk" signers
 * and, when `trustedRootPem` is given, "x5c" signers whose chain reaches that root. Anything else
 * is refused: a callback that says "verified" without checking would make the package's own
 * checks meaningless.
 */
export function callbacks({ privateJwks = [], trustedRootPem = null, log = [] } = {}) {
  const keys = new Map(privateJwks.map((jwk) => [keyId(jwk), jwk]));
  return {
    hash: (data, alg) => {
      if (!(alg in HASHES)) throw new Error(`unsupported hash ${alg}`);
      return new Uint8Array(createHash(HASHES[alg]).update(data).digest());
    },
    generateRandom: (length) => new Uint8Array(randomBytes(length)),
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      log.push({ method: init?.method ?? 'GET', url: String(input), status: response.status });
      return response;
    },
    signJwt: (signer, { header, payload }) => {
      if (signer.method !== 'jwk') throw new Error(`cannot sign for a ${signer.method} signer`);
      const privateJwk = keys.get(keyId(signer.publicJwk));
      if (!privateJwk) throw new Error('no private key for the signer\'s public JWK');
      return { jwt: signCompactJwt(header, payload, privateJwk), signerJwk: signer.publicJwk };
    },
    verifyJwt: (signer, { header, compact }) => {
      if (signer.method === 'jwk') {
        const publicKey = createPublicKey({ key: signer.publicJwk, format: 'jwk' });
        return { verified: verifyCompactJwt(compact, header.alg, publicKey), signerJwk: signer.publicJwk };
      }
      if (signer.method === 'x5c' && trustedRootPem) {
        const leaf = verifyX5cChain(signer.x5c, trustedRootPem);
        const signerJwk = leaf.publicKey.export({ format: 'jwk' });
        return { verified: verifyCompactJwt(compact, header.alg, leaf.publicKey), signerJwk };
      }
      return { verified: false };
    },
    getX509CertificateMetadata: (der) => subjectAltNames(new X509Certificate(Buffer.from(der, 'base64'))),
    decryptJwe: () => {
      throw new Error('JWE is not used by these interop tests');
    },
    encryptJwe: () => {
      throw new Error('JWE is not used by these interop tests');
    },
  };
}

function keyId(jwk) {
  return JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y]);
}

// What went wrong, as data: the packages' errors carry the server's answer in different places.
export function describeError(error) {
  const described = { name: error?.constructor?.name ?? 'Error', message: String(error?.message ?? error) };
  const response = error?.response?.response ?? error?.response;
  if (typeof response?.status === 'number') described.status = response.status;
  const body = error?.errorResponse
    ?? error?.response?.credentialErrorResponseResult?.data
    ?? error?.response?.credentialErrorResponseResult?.error
    ?? error?.textResponse;
  if (body !== undefined) described.body = body;
  return described;
}

export async function readJsonStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
