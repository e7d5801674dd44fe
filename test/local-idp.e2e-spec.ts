/**
 * The local OpenID Connect provider harness (test/utils/local-idp.ts + test/idp/idp.mjs) itself:
 * a real oidc-provider in a child process, driven over plain HTTP. The suites of the IdP login
 * and IdP-refresh-token features build on these guarantees.
 */
import { createPublicKey, verify } from 'node:crypto';

import { createPkce, decodeJwt, IdpLoginRefusedError, LocalIdp, startLocalIdp } from './utils/local-idp';

const REDIRECT_URI = 'http://127.0.0.1/auth/oidc/callback';

describe('local OpenID Connect provider (test harness)', () => {
  let idp: LocalIdp | undefined;
  const theIdp = (): LocalIdp => {
    if (!idp) throw new Error('IdP not started');
    return idp;
  };

  beforeAll(async () => {
    idp = await startLocalIdp({ redirectUris: [REDIRECT_URI] });
  });

  afterAll(async () => {
    await idp?.stop();
  });

  it('publishes a discovery document with the endpoints the feature needs', async () => {
    const d = await theIdp().discovery();
    const { issuer } = theIdp();
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(d).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      userinfo_endpoint: `${issuer}/me`,
      end_session_endpoint: `${issuer}/session/end`,
      revocation_endpoint: `${issuer}/token/revocation`,
    });
    expect(d.code_challenge_methods_supported).toContain('S256');
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(d.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
  });

  it('issues an offline refresh token that buys JWT access tokens signed with the JWKS', async () => {
    const idp = theIdp();
    await idp.resetStats();

    const offline = await idp.obtainOfflineToken('alice', {
      redirectUri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
    });
    expect(offline.refresh_token).toEqual(expect.any(String));
    expect(offline.scope?.split(' ').sort()).toEqual(['email', 'offline_access', 'openid', 'profile']);
    expect(decodeJwt(offline.id_token).payload).toMatchObject({
      iss: idp.issuer,
      sub: 'sub-alice',
      aud: idp.clientId,
      preferred_username: 'alice',
      email: 'alice@example.test',
    });

    // client_secret_post and client_secret_basic are both accepted.
    const post = await idp.refresh(offline.refresh_token, { auth: 'client_secret_post' });
    const basic = await idp.refresh(offline.refresh_token, { auth: 'client_secret_basic' });
    expect(post.status).toBe(200);
    expect(basic.status).toBe(200);
    // No rotation by default: the same refresh token comes back and keeps working.
    expect(post.body.refresh_token).toBe(offline.refresh_token);
    expect(basic.body.refresh_token).toBe(offline.refresh_token);
    expect(post.body.expires_in).toBeGreaterThan(50);
    expect(post.body.expires_in).toBeLessThanOrEqual(60);

    const accessToken: string = post.body.access_token;
    const { header, payload } = decodeJwt(accessToken);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const jwk = (await idp.jwks()).keys.find((k) => k.kid === header.kid);
    expect(jwk).toBeDefined();
    expect(jwk).not.toHaveProperty('d'); // public part only
    const [h, p, s] = accessToken.split('.');
    const key = createPublicKey({ key: jwk as any, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))).toBe(true);
    expect(payload).toMatchObject({
      iss: idp.issuer,
      sub: 'sub-alice',
      aud: idp.audience,
      client_id: idp.clientId,
    });
    expect(payload.scope.split(' ').sort()).toEqual(['email', 'offline_access', 'openid', 'profile']);
    expect(payload.exp - payload.iat).toBe(60);

    expect(await idp.stats()).toMatchObject({
      total: 3,
      byGrantType: { authorization_code: 1, refresh_token: 2 },
      errorsByGrantType: {},
    });
  });

  it('refuses a wrong password', async () => {
    const { codeChallenge } = createPkce();
    await expect(
      theIdp().login('alice', 'not-the-password', { redirectUri: REDIRECT_URI, codeChallenge }),
    ).rejects.toBeInstanceOf(IdpLoginRefusedError);
    await expect(
      theIdp().login('mallory', 'alice-password', { redirectUri: REDIRECT_URI, codeChallenge }),
    ).rejects.toBeInstanceOf(IdpLoginRefusedError);
  });

  it('refuses a code flow without PKCE', async () => {
    const location = new URL(await theIdp().login('alice', 'alice-password', { redirectUri: REDIRECT_URI }));
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('answers prompt=none silently while the IdP session lives, login_required once it is gone', async () => {
    const idp = theIdp();
    const jar = idp.newCookieJar();
    const first = createPkce();
    const state = 'state-1';
    const loggedIn = new URL(
      await idp.login('alice', 'alice-password', {
        redirectUri: REDIRECT_URI,
        codeChallenge: first.codeChallenge,
        state,
        jar,
      }),
    );
    expect(loggedIn.searchParams.get('state')).toBe(state);
    expect(loggedIn.searchParams.get('iss')).toBe(idp.issuer);
    const code = loggedIn.searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    const tokens = await idp.exchangeCode(code!, REDIRECT_URI, first.codeVerifier);
    expect(tokens.refresh_token).toBeUndefined(); // no offline_access requested

    // Silent re-authentication with the session cookie: a code, no login form.
    const silent = new URL(
      await idp.login('alice', 'unused', {
        redirectUri: REDIRECT_URI,
        codeChallenge: createPkce().codeChallenge,
        prompt: 'none',
        jar,
        extraParams: { id_token_hint: tokens.id_token! },
      }),
    );
    expect(silent.searchParams.get('code')).toEqual(expect.any(String));

    expect(await idp.endSessions()).toBeGreaterThanOrEqual(1);
    const gone = new URL(
      await idp.login('alice', 'unused', {
        redirectUri: REDIRECT_URI,
        codeChallenge: createPkce().codeChallenge,
        prompt: 'none',
        state: 'state-2',
        jar,
      }),
    );
    expect(gone.searchParams.get('error')).toBe('login_required');
    expect(gone.searchParams.get('state')).toBe('state-2');
  });

  it('logs out at the end_session_endpoint; an offline refresh token survives the logout', async () => {
    const idp = theIdp();
    const jar = idp.newCookieJar();
    const offline = await idp.obtainOfflineToken('bob', { redirectUri: REDIRECT_URI });
    const pkce = createPkce();
    const code = new URL(
      await idp.login('bob', 'bob-password', { redirectUri: REDIRECT_URI, codeChallenge: pkce.codeChallenge, jar }),
    ).searchParams.get('code');
    const session = await idp.exchangeCode(code!, REDIRECT_URI, pkce.codeVerifier);

    const done = new URL(
      await idp.logout({
        jar,
        idTokenHint: session.id_token,
        postLogoutRedirectUri: 'http://127.0.0.1:4321/', // loopback: any port matches
        state: 'bye',
      }),
    );
    expect(done.href).toBe('http://127.0.0.1:4321/?state=bye');
    const silent = new URL(
      await idp.login('bob', 'unused', {
        redirectUri: REDIRECT_URI,
        codeChallenge: createPkce().codeChallenge,
        prompt: 'none',
        jar,
      }),
    );
    expect(silent.searchParams.get('error')).toBe('login_required');
    expect((await idp.refresh(offline.refresh_token)).status).toBe(200);
  });

  it('revokeGrants() makes the subject refresh tokens fail with invalid_grant', async () => {
    const idp = theIdp();
    const alice = await idp.obtainOfflineToken('alice', { redirectUri: REDIRECT_URI });
    const bob = await idp.obtainOfflineToken('bob', { redirectUri: REDIRECT_URI });
    expect((await idp.refresh(alice.refresh_token)).status).toBe(200);

    expect(await idp.revokeGrants('sub-alice')).toBeGreaterThanOrEqual(1);

    const refused = await idp.refresh(alice.refresh_token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await idp.refresh(bob.refresh_token)).status).toBe(200);
  });

  it('can be stopped (connection refused) and restarted on the same port', async () => {
    const idp = theIdp();
    const { issuer, port } = idp;
    const before = await idp.obtainOfflineToken('bob', { redirectUri: REDIRECT_URI });
    const kid = decodeJwt(before.access_token).header.kid;

    await idp.stop();
    expect(idp.running).toBe(false);
    await expect(idp.refresh(before.refresh_token)).rejects.toMatchObject({
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    });

    await idp.restart();
    expect(idp.issuer).toBe(issuer);
    expect(idp.port).toBe(port);
    // The signing keys survive the restart...
    expect((await idp.jwks()).keys.map((k) => k.kid)).toContain(kid);
    // ...but the state does not: the in-memory adapter forgot every token issued before.
    const lost = await idp.refresh(before.refresh_token);
    expect(lost.status).toBe(400);
    expect(lost.body.error).toBe('invalid_grant');

    const after = await idp.obtainOfflineToken('bob', { redirectUri: REDIRECT_URI });
    expect((await idp.refresh(after.refresh_token)).status).toBe(200);
  });
});

describe('local OpenID Connect provider with rotating refresh tokens and short access tokens', () => {
  let idp: LocalIdp | undefined;

  beforeAll(async () => {
    idp = await startLocalIdp({ rotateRefreshTokens: true, accessTokenTtl: 2 });
  });

  afterAll(async () => {
    await idp?.stop();
  });

  it('rotates on use, and reuse of a rotated token revokes the whole grant', async () => {
    const { refresh_token: first, access_token } = await idp!.obtainOfflineToken('alice');
    const { payload } = decodeJwt(access_token);
    expect(payload.exp - payload.iat).toBe(2);

    const r1 = await idp!.refresh(first);
    expect(r1.status).toBe(200);
    expect(r1.body.expires_in).toBeLessThanOrEqual(2);
    const second: string = r1.body.refresh_token;
    expect(second).not.toBe(first);

    const reuse = await idp!.refresh(first);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // Reuse detection: the newer token of the same grant is dead too.
    expect((await idp!.refresh(second)).body.error).toBe('invalid_grant');
  });
});
