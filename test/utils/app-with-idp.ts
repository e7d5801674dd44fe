import { API_PREFIX } from '../../src/common/http/base-url';
import { createTestApp, type TestApp } from './create-test-app';
import { startLocalIdp, type LocalIdp, type LocalIdpOptions } from './local-idp';

export interface AppWithIdp {
  idp: LocalIdp;
  t: TestApp;
  /** The app's origin on loopback, `http://127.0.0.1:<port>` (the IdP redirects there). */
  base: string;
}

/**
 * The local IdP (a real oidc-provider process) and a Latchkey app that knows it as the provider
 * `idp` ("Test IdP"), listening on 127.0.0.1 so that a browser (or TestBrowser) can go through
 * the whole redirect dance. `idp` options, extra `env` and provider `overrides` (a FakeClock…)
 * are the suite's. Close both in afterAll: `await t?.close(); await idp?.stop();`.
 */
export async function startAppWithIdp(
  options: { idp?: LocalIdpOptions; env?: Record<string, string>; overrides?: { provide: unknown; useValue: unknown }[] } = {},
): Promise<AppWithIdp> {
  const idp = await startLocalIdp({ redirectUris: [`http://127.0.0.1/${API_PREFIX}/auth/provider/idp/code`], ...options.idp });
  try {
    const t = await createTestApp({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp', { displayName: 'Test IdP' }), ...options.env }, undefined, options.overrides);
    await t.app.listen(0, '127.0.0.1');
    const base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    return { idp, t, base };
  } catch (error) {
    await idp.stop();
    throw error;
  }
}
