// Verifies access tokens as another service would with `jose` (the JOSE library most Node
// services use), knowing nothing but the JWK set's URL: node jose-verify.mjs <jwks_uri> <issuer>
// <audience> <token>... prints one JSON array, per token { ok, sub, kid } or { ok: false, code }.
// A child process because jose 6 is ESM-only and the suites run as CommonJS under ts-jest.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUri, issuer, audience, ...tokens] = process.argv.slice(2);
const keys = createRemoteJWKSet(new URL(jwksUri));
const results = [];
for (const token of tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] });
    results.push({ ok: true, sub: payload.sub, kid: protectedHeader.kid, scope: payload.scope });
  } catch (err) {
    results.push({ ok: false, code: err.code ?? String(err) });
  }
}
console.log(JSON.stringify(results));
