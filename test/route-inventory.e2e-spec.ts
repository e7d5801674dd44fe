/**
 * Route inventory: every route the app serves and what it asks of its caller.
 *
 * THE SNAPSHOT IS A PERMISSION TABLE. A diff in test/__snapshots__/route-inventory.e2e-spec.ts.snap
 * means a route was added, removed, or changed who may call it (public / optional / credential,
 * roles, scopes, credential kinds). Review it as a permission change, not as a test artefact:
 * never update it with `-u` without reading the diff.
 *
 * Routes are discovered from the running app's controllers and their full paths built by Nest's
 * own RoutePathFactory (global prefix `api/v1`, minus the excluded `health` and `metrics` routes), so a new
 * route shows up here without touching this file. The access of each comes from the same
 * RoutePolicies the global guards enforce. The invariants below hold whatever the snapshot says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RoutePolicy } from '../src/common/auth/route-policy';
import { KNOWN_ROLES, ROLE_SCOPES } from '../src/common/auth/scopes';
import { createTestApp, type TestApp } from './utils/create-test-app';
import { discoverRoutes, PUBLIC_ROUTES } from './utils/routes';

/** Routes that let anonymous callers through (@OptionalAuth()): as exposed as public ones. */
const OPTIONAL_ROUTES = ['GET /api/v1/auth/whoami'];

/**
 * Credential routes that need no scope (issue 16 §6): each only describes the credential presented
 * with the request, so a key restricted to `read:metadata` must still answer them (Tiled clients
 * call them with such keys). Everything else names a scope, a role or a session-only rule.
 */
const SCOPE_FREE_ROUTES = [
  'GET /api/v1/auth/whoami',
  'GET /api/v1/auth/credential',
  // Tiled §6.9 (the client's which_api_key()): the presented key's own first eight, scopes, expiry.
  'GET /api/v1/auth/apikey',
];

/**
 * Routes that take a deploy token as well as a user credential: the needed scope depends on the
 * kind (plugin:upload for a deploy token, write:plugins for a user), so the handler checks it
 * (PluginsService.assertCanUpload), as test/plugins.e2e-spec.ts proves.
 */
const SCOPE_CHECKED_BY_HANDLER = ['POST /api/v1/plugins/:package/versions', 'PUT /api/v1/plugins/:package/versions/:version'];

interface Route {
  method: string;
  path: string;
  policy: RoutePolicy;
}

function discover(t: TestApp): Route[] {
  return discoverRoutes(t.app).map(({ method, path, policy }) => ({ method, path, policy }));
}

const key = (r: Route) => `${r.method} ${r.path}`;

/** `METHOD /path → access [roles=[…]] [scopes=[…]] [kinds=[…]]` (kinds only when not the default, users). */
function describeRoute(r: Route): string {
  const { access, roles, scopes, principalKinds, tiledScopeErrors, sessionOnly, recentLogin } = r.policy;
  const parts = [`${key(r)} → ${access}`];
  if (roles.length) parts.push(`roles=${roles.map((anyOf) => `[${[...anyOf].sort().join(' | ')}]`).join(' & ')}`);
  if (sessionOnly) parts.push('session-only');
  if (recentLogin) parts.push('recent-login');
  if (scopes.length) parts.push(`scopes=[${[...scopes].sort().join(', ')}]`);
  if (principalKinds.length !== 1 || principalKinds[0] !== 'user') parts.push(`kinds=[${[...principalKinds].sort().join(', ')}]`);
  if (tiledScopeErrors && scopes.length) parts.push('(scope failure: 401, as Tiled)');
  return parts.join(' ');
}

describe('route inventory (a snapshot diff is a permission change: review it)', () => {
  let t: TestApp;
  let routes: Route[];

  beforeAll(async () => {
    t = await createTestApp();
    routes = discover(t).sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path < b.path ? -1 : 1));
  });
  afterAll(() => t?.close());

  it('matches the reviewed permission table', () => {
    expect(routes.map(describeRoute)).toMatchSnapshot();
  });

  it('has no route twice', () => {
    const keys = routes.map(key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('makes public only the allow-listed routes', () => {
    const isPublic = routes.filter((r) => r.policy.access === 'public').map(key);
    expect(isPublic.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('lets anonymous callers through (@OptionalAuth) only on the allow-listed routes', () => {
    const optional = routes.filter((r) => r.policy.access === 'optional').map(key);
    expect(optional.sort()).toEqual([...OPTIONAL_ROUTES].sort());
  });

  it('requires a credential and the admin role on every /api/v1/admin route', () => {
    const admin = routes.filter((r) => /^\/api\/v1\/admin(\/|$)/.test(r.path));
    for (const r of admin) {
      // Some level must demand admin and nothing else ('admin' among alternatives would not do).
      const adminOnly = r.policy.roles.some((anyOf) => anyOf.length === 1 && anyOf[0] === 'admin');
      expect({ route: key(r), access: r.policy.access, admin: adminOnly }).toEqual({
        route: key(r),
        access: 'credential',
        admin: true,
      });
    }
  });

  it('asks a scope, a role or an interactive login of every non-public route, but the allow-listed ones', () => {
    // A role counts: AuthorizationGuard honours a role only when the credential carries every scope
    // of it, so a role-gated route is at least as narrow as one that asks a single scope.
    const bare = routes
      .filter((r) => r.policy.access !== 'public')
      .filter((r) => r.policy.scopes.length === 0 && r.policy.roles.length === 0 && !r.policy.sessionOnly)
      .map(key);
    expect(bare.sort()).toEqual([...SCOPE_FREE_ROUTES, ...SCOPE_CHECKED_BY_HANDLER].sort());
  });

  it('names only roles and scopes that exist (a typo would lock everyone out)', () => {
    const knownScopes = new Set(Object.values(ROLE_SCOPES).flat());
    const unknown = routes.flatMap((r) => [
      ...r.policy.roles
        .flat()
        .filter((role) => !KNOWN_ROLES.includes(role))
        .map((role) => `${key(r)}: role ${role}`),
      ...r.policy.scopes.filter((scope) => !knownScopes.has(scope)).map((scope) => `${key(r)}: scope ${scope}`),
    ]);
    expect(unknown).toEqual([]);
  });

  it('lists paths the server really routes (the prefix computed as Nest does)', async () => {
    const server = t.app.getHttpServer() as http.Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const unrouted: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/[{}]/g, '').replace(/[:*]\w+/g, 'x');
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: r.method, path }, (response) => {
          let body = '';
          response.on('data', (c: Buffer) => (body += c.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      // Nest's not-found handler answers "Cannot GET /path"; a handler's own 404 says something else.
      if (res.status === 404 && /"message":"Cannot [A-Z]+ /.test(res.body)) unrouted.push(`${key(r)} (${path})`);
    }
    expect(unrouted).toEqual([]);
  });
});
