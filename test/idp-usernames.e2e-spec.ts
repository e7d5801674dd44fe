import { Logger } from '@nestjs/common';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp, startLocalIdp } from './utils/local-idp';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An IdP that sends no `preferred_username` (profile no-username: not in its tokens, its
 * userinfo, nor its discovery document's claims_supported). Latchkey names users by
 * OIDC_<P>_USERNAME_CLAIM, and says so in its log when the claim it is told to use is missing.
 */
describe('IdPs without preferred_username', () => {
  let idp: LocalIdp;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    idp = await startLocalIdp({ preferredUsername: false });
    warn = jest.spyOn(Logger.prototype, 'warn');
  });
  afterAll(async () => {
    warn?.mockRestore();
    await idp?.stop();
  });

  const warningsAbout = (setting: string) => warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes(setting));
  const whoIs = async (t: TestApp, username: string) => {
    const { refresh_token } = await idp.obtainOfflineToken(username, { scope: 'openid profile email offline_access' });
    return (await t.http().get(`${API}/auth/credential`).set(bearer(refresh_token)).expect(200)).body.username as string;
  };

  it('without OIDC_<P>_USERNAME_CLAIM: fallback names, and the log says at boot and at the first such user what to set', async () => {
    warn.mockClear();
    const t = await createTestApp({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OIDC_IDP_USERNAME_CLAIM: 'preferred_username' });
    try {
      // At boot: the discovery document (fetched in the background) does not list the claim.
      for (let i = 0; i < 100 && warningsAbout('OIDC_IDP_USERNAME_CLAIM').length === 0; i++) await sleep(20);
      expect(warningsAbout('OIDC_IDP_USERNAME_CLAIM')).toEqual([expect.stringContaining('does not list the "preferred_username" claim')]);
      expect(await whoIs(t, 'alice')).toMatch(/^idp-[0-9a-f]{10}$/);
      expect(await whoIs(t, 'bob')).toMatch(/^idp-[0-9a-f]{10}$/);
      const atLogin = warningsAbout('OIDC_IDP_USERNAME_CLAIM').filter((m) => m.includes('sent no'));
      expect(atLogin).toHaveLength(1); // once per provider, not once per user
      expect(atLogin[0]).toContain('e.g. email');
    } finally {
      await t.close();
    }
  });

  it('with OIDC_<P>_USERNAME_CLAIM=email: users are named by their email, and nothing is warned', async () => {
    warn.mockClear();
    const t = await createTestApp({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OIDC_IDP_USERNAME_CLAIM: 'email' });
    try {
      expect(await whoIs(t, 'alice')).toBe('alice-example.test');
      expect(warningsAbout('USERNAME_CLAIM')).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
