// An OpenID4VCI 1.0 wallet built on @openid4vc/openid4vci (Openid4vciClient), for
// tests/interop/test_openid4vc_npm.py: the pre-authorized code flow against a live issuer.
//
// Reads one JSON request from stdin:
//   {"offer_uri": "openid-credential-offer://?credential_offer_uri=..." | "...?credential_offer=...",
//    "tx_code"?: "123456", "dpop"?: false, "batch"?: 1, "alg"?: "ES256", "notify"?: false,
//    "allow_http"?: false}
// and writes one JSON answer to stdout:
//   {"credential", "credentials": [...], "holder_private_jwk", "holder_private_jwks": [...],
//    "issuer_metadata", "authorization_server_metadata", "credential_offer", "token_type",
//    "c_nonce", "proof_jwts", "notification_id", "notification": {status} | null,
//    "requests": [{method, url, status}]}
// or, when the package or the issuer refuses a step, {"error": {name, message, status?, body?},
// "step": "offer" | "metadata" | "token" | "nonce" | "proof" | "credential" | "notification",
// "requests"}.
//
// Every protocol step is the package's: parsing the offer (by value or by reference), fetching the
// credential issuer metadata (path-inserted well-known URL), the authorization server metadata
// (RFC 8414), the token request (pre-authorized_code + tx_code), the nonce request, the proof JWT
// (typ openid4vci-proof+jwt, aud = credential issuer, nonce = c_nonce) and the credential request
// (credential_configuration_id + plural proofs.jwt, as OpenID4VCI 1.0 §8.2 requires). This script
// only chooses: the first offered configuration, a fresh key per proof, and Bearer or DPoP.
//
// "allow_http" turns on the package's allowInsecureUrls: the test servers listen on 127.0.0.1 over
// plain http, and the package otherwise insists on https for every URL in the metadata.

import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { setGlobalConfig } from '@openid4vc/utils';
import {
  algorithmOfJwk,
  callbacks,
  describeError,
  generateHolderKey,
  publicPart,
  readJsonStdin,
} from './openid4vc_callbacks.mjs';

const request = await readJsonStdin();
if (typeof request.offer_uri !== 'string') {
  process.stderr.write('expected {"offer_uri": string, "tx_code"?: string, "dpop"?: boolean, "batch"?: number}\n');
  process.exit(2);
}
setGlobalConfig({ allowInsecureUrls: request.allow_http === true });

const alg = request.alg ?? 'ES256';
const holderKeys = Array.from({ length: request.batch ?? 1 }, () => generateHolderKey(alg));
const dpopKey = request.dpop ? generateHolderKey('ES256') : null;
const requests = [];
const client = new Openid4vciClient({
  callbacks: {
    ...callbacks({ privateJwks: dpopKey ? [...holderKeys, dpopKey] : holderKeys, log: requests }),
    // Pre-authorized code flow with anonymous access (OpenID4VCI 1.0 §6.1): no client_id at all.
    clientAuthentication: clientAuthenticationAnonymous(),
  },
});

let step = 'offer';
try {
  const credentialOffer = await client.resolveCredentialOffer(request.offer_uri);

  step = 'metadata';
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);

  step = 'token';
  const { accessTokenResponse, authorizationServer, dpop } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode: request.tx_code ?? undefined,
    dpop: dpopKey ? { signer: { method: 'jwk', alg: 'ES256', publicJwk: publicPart(dpopKey) } } : undefined,
  });

  step = 'nonce';
  const { c_nonce } = await client.requestNonce({ issuerMetadata });

  step = 'proof';
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
  const proofJwts = [];
  for (const key of holderKeys) {
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId,
      signer: { method: 'jwk', alg: algorithmOfJwk(key), publicJwk: publicPart(key) },
      nonce: c_nonce,
      issuedAt: new Date(),
    });
    proofJwts.push(jwt);
  }

  step = 'credential';
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata,
    credentialConfigurationId,
    accessToken: accessTokenResponse.access_token,
    proofs: { jwt: proofJwts },
    dpop,
  });
  const credentials = (credentialResponse.credentials ?? []).map((entry) => entry.credential);

  // §11: tell the issuer the credentials were stored, when it gave a notification_id to answer.
  let notification = null;
  if (request.notify && credentialResponse.notification_id) {
    step = 'notification';
    const { response } = await client.sendNotification({
      issuerMetadata,
      notification: { notificationId: credentialResponse.notification_id, event: 'credential_accepted' },
      accessToken: accessTokenResponse.access_token,
      dpop,
    });
    notification = { status: response.status };
  }

  process.stdout.write(JSON.stringify({
    credential: credentials[0] ?? null,
    credentials,
    holder_private_jwk: holderKeys[0],
    holder_private_jwks: holderKeys,
    credential_configuration_id: credentialConfigurationId,
    credential_offer: credentialOffer,
    issuer_metadata: issuerMetadata.credentialIssuer,
    authorization_server: authorizationServer,
    authorization_server_metadata: issuerMetadata.authorizationServers,
    openid4vci_version: issuerMetadata.originalDraftVersion,
    token_type: accessTokenResponse.token_type,
    c_nonce,
    proof_jwts: proofJwts,
    notification_id: credentialResponse.notification_id ?? null,
    notification,
    requests,
  }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: describeError(error), step, requests }));
}
