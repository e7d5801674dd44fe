import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ERROR_CODES } from '../src/common/errors/error-codes';
import { createTestApp, TestApp } from './utils/create-test-app';
import { PUBLIC_ROUTES } from './utils/routes';

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref?: string; required?: string[]; properties?: object } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { allOf?: { $ref?: string; properties?: { code?: { enum?: string[] } } }[] } }> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { required?: string[]; properties?: object }>; securitySchemes: Record<string, unknown> } };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Routes anyone may call: the route inventory's allow-list (`:param` is OpenAPI's `{param}`). */
const PUBLIC = new Set(PUBLIC_ROUTES.map((route) => route.replace(/:(\w+)/g, '{$1}').toLowerCase()));

function operations(doc: Doc): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => [`${m} ${path}`, item[m]] as [string, Operation]),
  );
}

/** The codes an error response documents (its `code` enum) and the status it sits under. */
function documentedCodes(op: Operation): Map<string, string> {
  const out = new Map<string, string>();
  for (const [status, response] of Object.entries(op.responses)) {
    for (const part of response.content?.['application/json']?.schema?.allOf ?? []) {
      for (const code of part.properties?.code?.enum ?? []) out.set(code, status);
    }
  }
  return out;
}

/** Code written against the generated client: what a generator must get right. */
const CLIENT_USE = `import type { components, paths } from './api';
type Body<T> = T extends { requestBody?: { content: infer C } } ? C : never;

// Required body fields are required in the client, optional ones optional.
export const plugin: components['schemas']['CreatePluginDto'] = { name: 'fancy-plugin' };
// @ts-expect-error name is required
export const nameless: components['schemas']['CreatePluginDto'] = { display_name: 'Fancy' };

// The upload form: version and file required, notes optional.
type Upload = Body<paths['/api/v1/plugins/{package}/versions']['post']>['multipart/form-data'];
export const upload: Upload = { version: '1.0.0', file: 'bytes' };
// @ts-expect-error the file is required
export const fileless: Upload = { version: '1.0.0' };

// An error is the shared Error schema, its code one of those the operation lists under that status.
type Conflict = paths['/api/v1/admin/users/{id}/roles']['put']['responses'][409]['content']['application/json'];
export const lastAdmin: Conflict = { statusCode: 409, code: 'LAST_ADMIN', message: 'm', detail: 'm', requestId: 'r' };
// @ts-expect-error USERNAME_TAKEN is not an answer of this operation
export const other: Conflict = { statusCode: 409, code: 'USERNAME_TAKEN', message: 'm', detail: 'm', requestId: 'r' };
`;

const run = (script: string, ...args: string[]) => promisify(execFile)(process.execPath, [script, ...args]).catch((e: { stdout: string; stderr: string }) => e);

describe('OpenAPI', () => {
  let t: TestApp;
  let doc: Doc;
  let url: string | undefined;

  /** The document over a port of its own, for tools that run in another process (the test app closes it). */
  async function documentUrl(): Promise<string> {
    if (!url) {
      const server = t.app.getHttpServer().listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`;
    }
    return url;
  }

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.http().get('/openapi.json').expect(200)).body;
  });
  afterAll(() => t.close());

  it('serves /openapi.json whose password-flow tokenUrl is a path it lists (Tiled test_openapi)', async () => {
    const res = await t.http().get('/openapi.json').expect(200);
    const flows = res.body.components.securitySchemes.OAuth2PasswordBearer.flows;
    expect(flows.password.tokenUrl).toBe('/api/v1/auth/provider/local/token');
    expect(Object.keys(res.body.paths)).toContain(flows.password.tokenUrl);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/session/refresh', '/api/v1/auth/whoami']));
    // The deprecated logout route is hidden, as in Tiled.
    expect(Object.keys(res.body.paths)).not.toContain('/api/v1/auth/logout');
    // Exactly application/json, as every JSON answer (and Tiled's FastAPI).
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('is a valid OpenAPI 3 document', async () => {
    const { stdout } = await run(join(__dirname, 'utils', 'openapi-validate.mjs'), await documentUrl());
    expect(stdout.trim()).toBe('valid OpenAPI 3.0.0');
  });

  it('generates a typed client (openapi-typescript) in which required fields and error codes hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-client-'));
    try {
      await run(join(__dirname, '..', 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), await documentUrl(), '-o', join(dir, 'api.ts'));
      // Each @ts-expect-error line must be an error, and everything else must compile.
      writeFileSync(join(dir, 'use.ts'), CLIENT_USE);
      const tsc = await run(require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', join(dir, 'use.ts'));
      expect(tsc.stdout.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The lint: what a client generator and a reader need from every operation.
  it('gives every operation a unique id, a summary and tags', () => {
    const problems = operations(doc).flatMap(([name, op]) => [
      ...(op.summary?.trim() ? [] : [`${name}: no summary`]),
      ...(op.tags?.length ? [] : [`${name}: no tags`]),
      ...(op.operationId ? [] : [`${name}: no operationId`]),
    ]);
    expect(problems).toEqual([]);
    const ids = operations(doc).map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('states the security of every operation: none exactly on the public routes, a scheme on every other', () => {
    const problems = operations(doc).flatMap(([name, op]) => {
      if (!op.security) return [`${name}: no security requirement`];
      // (The password flow's tokenUrl is a copy of the public token route, for one provider.)
      const isPublic = PUBLIC.has(name) || op.operationId === 'passwordToken';
      if (isPublic && op.security.length > 0) return [`${name}: public, yet requires ${JSON.stringify(op.security)}`];
      if (!isPublic && op.security.length === 0) return [`${name}: needs a credential, yet documents none`];
      const unknown = op.security.flatMap((req) => Object.keys(req)).filter((s) => !(s in doc.components.securitySchemes));
      return unknown.map((s) => `${name}: unknown scheme ${s}`);
    });
    expect(problems).toEqual([]);
    // Scopes ride on the password flow's requirement; API keys are left out where only a login will do.
    const apikey = doc.paths['/api/v1/auth/apikey'].post.security!;
    expect(apikey).toEqual(expect.arrayContaining([{ OAuth2PasswordBearer: ['create:apikeys'] }, { bearer: [] }, { Apikey: [] }]));
    expect(doc.paths['/api/v1/users/me/password'].post.security).not.toContainEqual({ Apikey: [] });
    expect(doc.paths['/api/v1/plugins/{package}/versions'].post.security).toContainEqual({ DeployToken: [] });
    expect(doc.paths['/api/v1/auth/whoami'].get.security![0]).toEqual({}); // anonymous allowed
  });

  it('documents the errors of every operation with the shared error schema, each code under its status', () => {
    expect(doc.components.schemas.Error.required).toEqual(['statusCode', 'code', 'message', 'detail', 'requestId']);
    const problems = operations(doc).flatMap(([name, op]) => {
      const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      if (errors.length === 0) return [`${name}: no error response`];
      const bare = errors.filter((s) => !op.responses[s].content?.['application/json']?.schema?.allOf?.[0]?.$ref?.endsWith('/Error'));
      if (bare.length > 0) return [`${name}: ${bare.join(', ')} without the Error schema`];
      const misplaced = [...documentedCodes(op)].filter(([code, status]) => String(ERROR_CODES[code as keyof typeof ERROR_CODES]) !== status);
      return misplaced.map(([code, status]) => `${name}: ${code} under ${status}`);
    });
    expect(problems).toEqual([]);
  });

  it('derives the errors from what the route enforces: its guards, pipes and body', () => {
    const codes = (path: string, method: string) => documentedCodes(doc.paths[path][method]);
    // Admin, by UUID: role, 404 for a malformed or unknown id, body validation, and the domain's LAST_ADMIN.
    const setRoles = codes('/api/v1/admin/users/{id}/roles', 'put');
    for (const code of ['AUTH_REQUIRED', 'INSUFFICIENT_ROLE', 'USER_NOT_FOUND', 'VALIDATION_FAILED', 'MALFORMED_JSON', 'LAST_ADMIN', 'SERVICE_UNAVAILABLE']) {
      expect([code, setRoles.has(code)]).toEqual([code, true]);
    }
    expect(doc.paths['/api/v1/admin/users/{id}/roles'].put.parameters!.find((p) => p.name === 'id')!.schema).toEqual({ type: 'string', format: 'uuid' });
    // A Tiled route answers a missing scope with 401, a Latchkey route with 403.
    expect(codes('/api/v1/auth/apikey', 'post').get('INSUFFICIENT_SCOPE_TILED')).toBe('401');
    expect(codes('/api/v1/api-keys', 'get').get('INSUFFICIENT_SCOPE')).toBe('403');
    // A recent login is asked of the password change; a public route reads no credential.
    expect(codes('/api/v1/users/me/password', 'post').has('REAUTH_REQUIRED')).toBe(true);
    expect(codes('/api/v1/auth/session/refresh', 'post').has('AUTH_REQUIRED')).toBe(false);
  });

  it('marks required body fields, and describes the upload form fully', () => {
    const ref = (name: string) => doc.components.schemas[name];
    expect(ref('CreatePluginDto').required).toEqual(['name']);
    expect(ref('RefreshTokenRequestDto').required).toEqual(['refresh_token']);
    const upload = doc.paths['/api/v1/plugins/{package}/versions'].post.requestBody!;
    expect(upload.required).toBe(true);
    const form = upload.content['multipart/form-data'].schema;
    expect(form.required).toEqual(expect.arrayContaining(['version', 'file']));
    expect(Object.keys(form.properties ?? {})).toEqual(expect.arrayContaining(['version', 'file', 'notes']));
  });

  it('lists the Tiled search routes the client browses, with their paging parameters', async () => {
    const search = doc.paths['/api/v1/search'].get;
    expect(search.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['page[offset]', 'page[limit]', 'fields', 'sort']));
    expect(search.parameters!.find((p) => p.name === 'page[limit]')!.schema).toMatchObject({ minimum: 0, maximum: 300, default: 100 });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/metadata', '/api/v1/search/{path}']));
    expect(search.security).toEqual(expect.arrayContaining([{ bearer: [] }, { Apikey: [] }]));
  });

  it('serves the interactive docs at /api/docs: the page, its files, and an initializer that loads this document', async () => {
    const page = await t.http().get('/api/docs').redirects(1).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // Every file the page links to is served, with its type.
    const linked = [...page.text.matchAll(/(?:href|src)="\.?\/?([^"]+)"/g)].map(([, name]) => name);
    expect(linked).toEqual(expect.arrayContaining(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-initializer.js']));
    for (const name of linked) {
      const file = await t.http().get(`/api/docs/${name}`).expect(200);
      expect(file.headers['content-type']).toMatch(/^(text\/css|application\/javascript|image\/png)/);
    }
    const init = await t.http().get('/api/docs/swagger-initializer.js').expect(200);
    expect(init.text).toContain("url: '../../openapi.json'");
    expect(init.text).not.toContain('petstore');
  });

  it('attack: Swagger UI serves only its listed files, never a path joined to its folder', async () => {
    for (const path of [
      '/api/docs/package.json', // in the folder, not listed
      '/api/docs/LICENSE',
      '/api/docs/swagger-ui-bundle.js.map',
      '/api/docs/..%2fpackage.json',
      '/api/docs/..%2F..%2F..%2Fpackage.json',
      '/api/docs/%2e%2e%2fabsolute-path.js',
      '/api/docs/__proto__',
      '/api/docs/constructor',
    ]) {
      const res = await t.http().get(path);
      expect([path, res.status, res.body.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    // Traversal in the path itself never reaches the handler with a name outside the list.
    const dotted = await t.http().get('/api/docs/../../package.json');
    expect(dotted.status).toBe(404);
    expect(dotted.text).not.toContain('"dependencies"');
  });
});
