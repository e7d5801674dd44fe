/**
 * Malformed input against EVERY route: whatever a client sends (no credential, a garbled one,
 * a broken or oversize body, junk in the path), the answer is a 4xx in the one JSON error
 * shape `{statusCode, code, message, detail, requestId}`, or a 2xx where the input happens to
 * be acceptable (the handshake, health, an anonymous whoami), and never a 5xx.
 *
 * Routes are discovered from the running app's controllers (as Nest registers them), so a
 * route added later is covered without touching this file. Each test is one row of the
 * input table (one kind of bad input), run against every route, concurrently but bounded.
 * Requests go through `node:http` directly: it sends header bytes as given (latin1), which
 * supertest/superagent does not promise.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { RoutePolicy } from '../src/common/auth/route-policy';
import { ERROR_CODES } from '../src/common/errors/error-codes';
import { APP_CONFIG, type AppConfig } from '../src/config/app.config';
import { RefreshToken } from '../src/sessions/refresh-token.entity';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { LocalIdp, startLocalIdp } from './utils/local-idp';
import { createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';
import { discoverRoutes } from './utils/routes';

// ---------------------------------------------------------------------------------------------
// Routes (discovered by test/utils/routes.ts) and the body fields of their DTOs.

interface Route {
  method: string;
  /** Full path template as Express matches it, e.g. `/api/v1/auth/session/revoke/:sessionId`. */
  path: string;
  policy: RoutePolicy;
  /** Properties of the `@Body()` DTO (class-validator metadata); empty when there is none. */
  bodyFields: { name: string; optional: boolean }[];
}

function discover(t: TestApp): Route[] {
  return discoverRoutes(t.app).map(({ method, path, policy, controller, handlerName }) => ({
    method,
    path,
    policy,
    bodyFields: bodyFieldsOf(controller, handlerName),
  }));
}

/** The fields of the handler's `@Body()` DTO, from class-validator's metadata. */
function bodyFieldsOf(controller: Function, method: string): Route['bodyFields'] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, method) ?? []) as Function[];
  for (const [key, arg] of Object.entries(args)) {
    if (Number(key.split(':')[0]) !== RouteParamtypes.BODY || arg.data !== undefined) continue;
    const dto = types[arg.index];
    if (!dto || dto === Object) return [];
    const metas = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    const names = [...new Set(metas.map((m) => m.propertyName))];
    return names.map((name) => ({
      name,
      optional: metas.some((m) => m.propertyName === name && m.type === ValidationTypes.CONDITIONAL_VALIDATION),
    }));
  }
  return [];
}

/** Junk for every path parameter (`:name`, `*name`); percent-escapes are sent as written. */
const JUNK_PARAMS = ['x', 'not-a-uuid', '-'.repeat(36), 'a'.repeat(300), '%ZZ', '%00', '%FF', '%C3%A9%2F..%2F..', randomUUID()];

function concretePaths(route: Route, known: Record<string, string[]>): string[] {
  const params = [...route.path.matchAll(/[:*](\w+)/g)].map((m) => m[1]);
  // An optional group (`/plugins{/}`) is requested without its braces.
  if (params.length === 0) return [route.path.replace(/[{}]/g, '')];
  const fill = (value: (param: string) => string) =>
    route.path.replace(/[{}]/g, '').replace(/[:*](\w+)/g, (_, p: string) => value(p));
  const out = JUNK_PARAMS.map((junk) => fill(() => junk));
  // A known-good value (the password provider's name) gets the body past the param check.
  if (params.every((p) => p in known)) {
    const n = Math.max(...params.map((p) => known[p].length));
    for (let i = 0; i < n; i++) out.push(fill((p) => known[p][Math.min(i, known[p].length - 1)]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Req {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Statuses this input must get; by default any status below 500. */
  expect?: readonly number[];
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

let port = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function send(req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    // Header strings go out as latin1 bytes, so '\xff' is the single byte 0xff on the wire.
    const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function malformedUrl(path: string): boolean {
  try {
    decodeURIComponent(path.split('?')[0]);
    return false;
  } catch {
    return true;
  }
}

/** What is wrong with a response, as readable lines; empty when it honours the contract. */
function problems(req: Req, res: Res): string[] {
  const out: string[] = [];
  if (res.status >= 500) out.push(`server error ${res.status}`);
  // A path that does not %-decode is refused by the router (400) before anything reads the body.
  const expected = req.expect && malformedUrl(req.path) ? [...req.expect, 400] : req.expect;
  if (expected && !expected.includes(res.status)) out.push(`status ${res.status}, expected ${expected.join(' or ')}`);
  if (res.status < 400) return out;
  if (!/^application\/json\b/.test(String(res.headers['content-type']))) out.push(`content-type ${res.headers['content-type']}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    return [...out, 'body is not JSON'];
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [...out, 'body is not a JSON object'];
  if (body.statusCode !== res.status) out.push(`statusCode ${String(body.statusCode)}`);
  const code = body.code as keyof typeof ERROR_CODES;
  if (typeof code !== 'string' || ERROR_CODES[code] !== res.status) out.push(`code ${String(code)} is not a ${res.status} code`);
  if (typeof body.message !== 'string' || body.message.length === 0) out.push('no message');
  if (!('detail' in body) || body.detail === undefined || body.detail === null) out.push('no detail');
  if (typeof body.requestId !== 'string' || body.requestId.length === 0 || body.requestId !== res.headers['x-request-id']) {
    out.push(`requestId ${String(body.requestId)} (header ${String(res.headers['x-request-id'])})`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The input table. Each row builds the requests for one concrete path of one route.

interface Ctx {
  access: string;
  refresh: string;
}

interface Target {
  route: Route;
  path: string;
}

/** A request of a row: method and path come from the target unless the row overrides the path. */
type RowReq = Omit<Req, 'method' | 'path'> & { path?: string };

interface Row {
  name: string;
  requests(target: Target, ctx: Ctx): RowReq[];
}

const HAS_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * Routes that take no body and act on the caller alone: with a valid credential any request to
 * them is a legitimate call (revoke-all really revokes everything), so the body rows send them
 * only garbled or missing credentials.
 */
const BODILESS_ACTIONS = new Set(['POST /api/v1/users/me/revoke-all']);
const JSON_TYPE = { 'Content-Type': 'application/json' };
const needsAuth = (r: Route) => r.policy.access !== 'public';
/** A garbled credential is refused on any route that reads credentials (400 malformed, 401 invalid). */
const refused = (r: Route, statuses: readonly number[]) => (needsAuth(r) ? statuses : undefined);
const BAD_CREDENTIAL = [400, 401] as const;

/** A body every field of which has a plausible value (optional fields left out). */
function plausible(route: Route): Record<string, unknown> {
  return Object.fromEntries(route.bodyFields.filter((f) => !f.optional).map((f) => [f.name, 'x']));
}

/** Body rows run without a credential, and also with a valid one where the route reads credentials. */
function withAndWithoutBearer(route: Route, ctx: Ctx, reqs: RowReq[]): RowReq[] {
  if (!HAS_BODY.has(route.method)) return [];
  const authed = needsAuth(route) && !BODILESS_ACTIONS.has(`${route.method} ${route.path}`)
    ? reqs.map((r) => ({ ...r, label: `${r.label} +bearer`, headers: { ...r.headers, Authorization: `Bearer ${ctx.access}` } }))
    : [];
  return [...reqs, ...authed];
}

const auth = (label: string, value: string, expect?: (r: Route) => readonly number[] | undefined): Row['requests'] =>
  ({ route }) => [{ label, headers: { Authorization: value }, expect: expect?.(route) }];

/** Flips a character in the middle of the signature (the last one may only hold padding bits). */
function flipSignature(jwt: string): string {
  const [h, p, s] = jwt.split('.');
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

const ROWS: Row[] = [
  {
    name: 'no Authorization header',
    requests: ({ route }) => [{ label: 'none', expect: route.policy.access === 'credential' ? [400, 401] : undefined }],
  },
  { name: 'Authorization: Bearer (no token)', requests: auth('Bearer', 'Bearer', (r) => refused(r, [400])) },
  { name: 'Authorization: "Bearer " (blank token)', requests: auth('Bearer+space', 'Bearer    ', (r) => refused(r, [400])) },
  { name: 'Authorization: Basic abc (unknown scheme)', requests: auth('Basic', 'Basic abc', (r) => refused(r, [400])) },
  { name: 'Authorization without a scheme', requests: auth('bare', 'sometoken', (r) => refused(r, [400])) },
  { name: 'Bearer + 10 KB of "a"', requests: auth('10KB', `Bearer ${'a'.repeat(10 * 1024)}`, (r) => refused(r, [400])) },
  {
    // Node's client refuses to send control bytes (0x00-0x08, 0x0a-0x1f, 0x7f) in a header
    // value (ERR_INVALID_CHAR), and Node's server parser would reject them before the app; so
    // this row sends the bytes Node does transmit: 0x80-0xff, UTF-8 sequences, and a tab.
    name: 'non-ASCII and control bytes in the credential',
    requests: ({ route }) =>
      [
        ['latin1 ff fe', 'Bearer \xff\xfe'],
        ['utf-8 bytes', `Bearer ${Buffer.from('tökén€', 'utf8').toString('latin1')}`],
        ['jwt + 0x80', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.\x80'],
        ['tab inside', 'Bearer abc\tdef'],
        ['Apikey ff', 'Apikey \xff'],
      ].map(([label, value]) => ({ label, headers: { Authorization: value }, expect: refused(route, [400]) })),
  },
  {
    name: 'a truncated JWT',
    requests: ({ route }, { access }) =>
      [
        ['mid-signature', access.slice(0, access.length - 10)],
        ['mid-payload', access.slice(0, access.indexOf('.') + 12)],
        ['header only', access.slice(0, access.indexOf('.'))],
      ].map(([label, token]) => ({ label, headers: { Authorization: `Bearer ${token}` }, expect: refused(route, BAD_CREDENTIAL) })),
  },
  {
    name: 'a JWT with a flipped signature, and forged JWTs',
    requests: ({ route }, { access }) => {
      const [h, p] = access.split('.');
      return [
        ['flipped signature', flipSignature(access)],
        ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`],
        ['alg none, junk sig', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.AAAA`],
        ['unknown kid', `${b64({ alg: 'HS256', typ: 'JWT', kid: 'nope' })}.${p}.${access.split('.')[2]}`],
        ['kid not a string', `${b64({ alg: 'HS256', kid: { $ne: 1 } })}.${p}.AAAA`],
        ['payload not JSON', `${h}.${Buffer.from('not json').toString('base64url')}.AAAA`],
        ['payload null', `${h}.${b64(null)}.AAAA`],
        ['header not JSON', `eyJ${'x'.repeat(20)}.${p}.AAAA`],
      ].map(([label, token]) => ({ label, headers: { Authorization: `Bearer ${token}` }, expect: refused(route, BAD_CREDENTIAL) }));
    },
  },
  {
    name: 'a refresh token (lk_rt_…) as Bearer',
    requests: ({ route }, { refresh }) => [
      { label: 'lk_rt_', headers: { Authorization: `Bearer ${refresh}` }, expect: refused(route, BAD_CREDENTIAL) },
    ],
  },
  {
    name: 'Apikey with garbage',
    requests: ({ route }) =>
      [
        ['garbage', 'Apikey garbage'],
        ['lk_pat_ look-alike', `Apikey lk_pat_${'A'.repeat(46)}`],
        ['an access token', 'Apikey eyJhbGciOiJIUzI1NiJ9.e30.AAAA'],
      ].map(([label, value]) => ({ label, headers: { Authorization: value }, expect: refused(route, BAD_CREDENTIAL) })),
  },
  {
    name: 'garbage in a credential cookie (tiled_api_key, lk_session)',
    // State-changing methods meet the CSRF check first (403): also a clear refusal.
    requests: ({ route }) =>
      ['tiled_api_key=garbage', 'lk_session=garbage', `lk_session=lk_bs_${'A'.repeat(46)}`, 'lk_session=caf%C3%A9'].map((cookie) => ({
        label: cookie,
        headers: { Cookie: cookie },
        expect: refused(route, [...BAD_CREDENTIAL, 403]),
      })),
  },
  {
    name: '?api_key= given twice, or as an object',
    requests: ({ route, path }) => [
      { label: 'twice', path: `${path}?api_key=a&api_key=b`, expect: refused(route, [400]) },
      // Express's simple query parser reads `api_key[x]` as another parameter: no credential at all.
      { label: 'bracketed', path: `${path}?api_key[x]=a`, expect: route.policy.access === 'credential' ? BAD_CREDENTIAL : undefined },
      { label: 'empty', path: `${path}?api_key=`, expect: refused(route, BAD_CREDENTIAL) },
      { label: 'non-ASCII', path: `${path}?api_key=%FF%FE`, expect: refused(route, BAD_CREDENTIAL) },
      { label: '10 KB', path: `${path}?api_key=${'a'.repeat(10 * 1024)}`, expect: refused(route, [400]) },
    ],
  },
  {
    name: 'body: malformed JSON',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(
        route,
        ctx,
        ['{"a":', '{', '{"a":1,}', "{'a':1}", 'undefined', '\u0000'].map((text, i) => ({
          label: `malformed #${i}`,
          headers: JSON_TYPE,
          body: text,
          expect: [400],
        })),
      ),
  },
  {
    name: 'body: a JSON string, number or null (not an object)',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(
        route,
        ctx,
        ['"a string"', '42', 'null', 'true'].map((text) => ({ label: text, headers: JSON_TYPE, body: text, expect: [400] })),
      ),
  },
  {
    name: 'body: a JSON array',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(route, ctx, [
        { label: '[]', headers: JSON_TYPE, body: '[]' },
        { label: '[1,2]', headers: JSON_TYPE, body: '[1,2]' },
        { label: '[plausible]', headers: JSON_TYPE, body: JSON.stringify([plausible(route)]) },
      ]),
  },
  {
    name: 'body: a wrong type for each field',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(
        route,
        ctx,
        route.bodyFields.flatMap((field) =>
          [12345, true, null, {}, ['x'], { $gt: '' }].map((value) => ({
            label: `${field.name}=${JSON.stringify(value)}`,
            headers: JSON_TYPE,
            body: JSON.stringify({ ...plausible(route), [field.name]: value }),
          })),
        ),
      ),
  },
  {
    name: 'body: 200 KB (limit 64 KB) is a 413',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(route, ctx, [
        {
          label: 'json 200KB',
          headers: JSON_TYPE,
          body: JSON.stringify({ ...plausible(route), pad: 'a'.repeat(200 * 1024) }),
          expect: [413],
        },
        { label: 'form 200KB', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `pad=${'a'.repeat(200 * 1024)}`, expect: [413] },
      ]),
  },
  {
    name: 'body: unknown extra fields and prototype keys',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(route, ctx, [
        { label: 'extra', headers: JSON_TYPE, body: JSON.stringify({ ...plausible(route), is_admin: true, roles: ['admin'] }) },
        { label: '__proto__', headers: JSON_TYPE, body: `{"__proto__":{"polluted":1},${JSON.stringify(plausible(route)).slice(1)}` },
        { label: 'constructor', headers: JSON_TYPE, body: JSON.stringify({ constructor: { prototype: { polluted: 1 } } }) },
      ]),
  },
  {
    name: 'body: form-encoded with nested keys and too many parameters',
    requests: ({ route }, ctx) => {
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const plain = new URLSearchParams(plausible(route) as Record<string, string>).toString();
      return withAndWithoutBearer(route, ctx, [
        { label: 'nested', headers: form, body: `${plain}&a[b]=1&a[c][d]=2&__proto__[polluted]=1` },
        { label: 'repeated field', headers: form, body: `${plain}&${plain}` },
        { label: 'bad escapes', headers: form, body: `${plain}&x=%ZZ&%FF=1` },
        { label: '200 params', headers: form, body: Array.from({ length: 200 }, (_, i) => `k${i}=1`).join('&'), expect: [413] },
      ]);
    },
  },
  {
    name: 'body: content-type text/plain and other unparsed types',
    requests: ({ route }, ctx) =>
      withAndWithoutBearer(route, ctx, [
        { label: 'text/plain', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(plausible(route)) },
        { label: 'octet-stream', headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]) },
        { label: 'no content-type', body: JSON.stringify(plausible(route)) },
        { label: 'xml', headers: { 'Content-Type': 'application/xml' }, body: '<a/>' },
      ]),
  },
  {
    name: 'body: broken encodings, charsets and multipart',
    requests: ({ route }, ctx) => {
      const json = JSON.stringify(plausible(route));
      const part = (disposition: string, value: string) => `--XX\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n--XX--\r\n`;
      const multipart: [string, string][] = [
        ['multipart/form-data', 'no boundary'],
        ['multipart/form-data; boundary=XX', '--XX\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice'],
        ['multipart/form-data; boundary=XX', part('name="f"; filename="f.txt"', 'a file')],
        ['multipart/form-data; boundary=XX', part('name="a[b]"', 'nested')],
        ['multipart/form-data; boundary=XX', part('name="pad"', 'a'.repeat(200 * 1024))],
      ];
      return withAndWithoutBearer(route, ctx, [
        { label: 'gzip garbage', headers: { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, body: json, expect: [400] },
        { label: 'deflate garbage', headers: { ...JSON_TYPE, 'Content-Encoding': 'deflate' }, body: json, expect: [400] },
        { label: 'br garbage', headers: { ...JSON_TYPE, 'Content-Encoding': 'br' }, body: json, expect: [400] },
        { label: 'form gzip garbage', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' }, body: 'a=1', expect: [400] },
        { label: 'unknown encoding', headers: { ...JSON_TYPE, 'Content-Encoding': 'zip' }, body: json, expect: [415] },
        { label: 'unknown charset', headers: { 'Content-Type': 'application/json; charset=klingon' }, body: json, expect: [415] },
        { label: 'utf-16 charset', headers: { 'Content-Type': 'application/json; charset=utf-16' }, body: json },
        { label: 'invalid utf-8', headers: JSON_TYPE, body: Buffer.concat([Buffer.from('{"username":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]) },
        ...multipart.map(([type, body], i) => ({ label: `multipart #${i}`, headers: { 'Content-Type': type }, body })),
      ]);
    },
  },
];

// ---------------------------------------------------------------------------------------------

describe('malformed input on every route: a clear 4xx JSON error, never a 5xx', () => {
  let t: TestApp;
  let idp: LocalIdp;
  let routes: Route[];
  let targets: Target[];
  let ctx: Ctx;
  let before: State;
  const seen = new Set<string>();

  interface State {
    users: User[];
    sessions: Session[];
    refreshTokens: RefreshToken[];
    whoamiSessions: number;
  }

  /** Every row of every table (password hashes, epochs, revocations, token use), and whoami's view. */
  async function state(): Promise<State> {
    const ds = t.dataSource;
    const users = await ds.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash').orderBy('u.id').getMany();
    const sessions = await ds.getRepository(Session).find({ order: { id: 'ASC' } });
    const refreshTokens = await ds.getRepository(RefreshToken).find({ order: { id: 'ASC' } });
    const who = await send({ label: 'whoami', method: 'GET', path: '/api/v1/auth/whoami', headers: { Authorization: `Bearer ${ctx.access}` } });
    expect(who.status).toBe(200);
    const whoamiSessions = (JSON.parse(who.text) as { sessions: unknown[] }).sessions.length;
    return { users, sessions, refreshTokens, whoamiSessions };
  }

  beforeAll(async () => {
    // An OIDC provider too, so its routes are reached with a real provider name.
    idp = await startLocalIdp();
    t = await createTestApp({
      OIDC_PROVIDERS: 'idp',
      ...idp.providerEnv('idp'),
    });
    const server = t.app.getHttpServer() as http.Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;

    await t.createUser('alice');
    await t.createUser('root', undefined, ['admin']);
    const tokens: LoginBody = await t.login('alice');
    ctx = { access: tokens.access_token, refresh: tokens.refresh_token };

    routes = discover(t);
    const known = { provider: [t.app.get<AppConfig>(APP_CONFIG).auth.passwordProviderName, 'idp'] };
    targets = routes.flatMap((route) => concretePaths(route, known).map((path) => ({ route, path })));
    before = await state();
  });

  afterAll(async () => {
    agent.destroy();
    await t?.close();
    await idp?.stop();
  });

  it('discovers the routes from the running app', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /api/v1',
        'GET /api/v1/auth/whoami',
        'POST /api/v1/auth/provider/:provider/token',
        'DELETE /api/v1/auth/session/revoke/:sessionId',
        'GET /health',
      ]),
    );
    const token = routes.find((r) => r.path.endsWith('/token'))!;
    expect(token.bodyFields.map((f) => f.name)).toEqual(expect.arrayContaining(['username', 'password']));
  });

  // A row sends every case to every route: over 30 s (Jest's default here) on a busy CI machine.
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const reqs = targets.flatMap((target) =>
      row.requests(target, ctx).map((r): Req & { route: Route } => ({ method: target.route.method, path: target.path, ...r, route: target.route })),
    );
    const results = await pool(reqs, 16, async (req) => ({ req, res: await send(req) }));
    // One line per route template, input and outcome (not per junk path), with one example.
    const failures = new Map<string, string>();
    for (const { req, res } of results) {
      seen.add(`${req.method} ${req.path.split('?')[0]}`);
      const wrong = problems(req, res);
      if (wrong.length === 0) continue;
      const key = `${req.method} ${req.route.path} [${req.label}] → ${wrong.join('; ')}`;
      if (!failures.has(key)) failures.set(key, `e.g. ${req.path.slice(0, 100)} → ${res.status} ${res.text.slice(0, 300)}`);
    }
    expect([...failures].map(([key, example]) => `${key}\n      ${example}`)).toEqual([]);
  }, 180_000);

  it('every discovered route was exercised', () => {
    for (const target of targets) expect(seen).toContain(`${target.route.method} ${target.path}`);
  });

  it('the whole table changed nothing: no users, sessions, tokens or passwords, no prototype pollution', async () => {
    const after = await state();
    expect(before.users.every((u) => typeof u.passwordHash === 'string')).toBe(true);
    expect(after).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});
