/**
 * Attacks on input parsing and transport (issue 16 §7), each played against the real app over HTTP:
 * - deeply nested JSON (and every other parser the client reaches) → a clear 400, never a 500 or a stack;
 * - every response that carries a new secret is `Cache-Control: no-store`;
 * - TRUST_PROXY naming proxies: a spoofed X-Forwarded-For from anyone else changes nothing;
 * - data files under DATA_DIR are private to the service's user (0600 / 0700).
 */
import { LOG_SINK, type LogSink } from '../../src/common/logging';
import { createTestApp, TestApp } from '../utils/create-test-app';

const API = '/api/v1';
const LOGIN = `${API}/auth/provider/local/token`;

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('attack: deeply nested input', () => {
  const lines: string[] = [];
  const sink: LogSink = { write: (line: string) => lines.push(line) };
  let t: TestApp;

  beforeAll(async () => {
    // A body limit large enough for a 100,000-deep body (200 KB), logs at log level into a captured sink.
    t = await createTestApp({ LOG_LEVEL: 'log', LOG_FORMAT: 'json', MAX_BODY_BYTES: String(1024 * 1024) }, undefined, [
      { provide: LOG_SINK, useValue: sink },
    ]);
    await t.createUser('alice');
  });
  afterAll(async () => t?.close());

  const errorLines = () =>
    lines.filter((line) => {
      try {
        const record = JSON.parse(line) as { level?: unknown };
        return typeof record.level === 'number' ? record.level >= 50 : record.level === 'error' || record.level === 'fatal';
      } catch {
        return /error|stack/i.test(line);
      }
    });
  const postJson = (path: string, body: string) => t.http().post(path).set('Content-Type', 'application/json').send(body);

  it('refuses JSON nested 33 deep with 400 JSON_TOO_DEEP, as a whole body and inside a field', async () => {
    for (const body of [nestedArrays(33), nestedObjects(33), `{"username":${nestedArrays(32)},"password":"x"}`]) {
      const res = await postJson(LOGIN, body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'JSON_TOO_DEEP', requestId: expect.any(String) });
      expect(res.body.message).toMatch(/deeper than 32/);
    }
  });

  it('lets 32-deep JSON through the parser (the DTO then judges it) and a normal body still logs in', async () => {
    // No Latchkey DTO takes nested values, so 32 deep reaches validation: 422, not the depth refusal.
    const deep = await postJson(LOGIN, `{"username":"alice","password":"x","extra":${nestedArrays(31)}}`).expect(422);
    expect(deep.body.code).toBe('VALIDATION_FAILED');
    const brackets = await postJson(LOGIN, JSON.stringify({ username: 'alice', password: `correct horse battery staple` })).expect(200);
    expect(brackets.body.access_token).toEqual(expect.any(String));
    // Brackets inside strings are text, not nesting.
    await postJson(LOGIN, JSON.stringify({ username: '['.repeat(200), password: '{'.repeat(200) + '\\"[' })).expect(401);
  });

  it('answers 5,000- and 100,000-deep arrays and objects with 400, with no error logged', async () => {
    lines.length = 0;
    for (const depth of [5_000, 100_000]) {
      for (const body of [nestedArrays(depth), nestedObjects(depth), `{"username":${nestedArrays(depth)}}`]) {
        const res = await postJson(LOGIN, body).expect(400);
        expect(res.body.code).toBe('JSON_TOO_DEEP');
      }
    }
    // Also on a route behind authentication: the body is refused before anything reads it.
    await postJson(`${API}/auth/apikey`, nestedArrays(5_000)).expect(400);
    expect(errorLines()).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
  });

  it('gives nesting no way in through urlencoded bodies, query strings or JSON cookies', async () => {
    lines.length = 0;
    const key = 'a' + '[b]'.repeat(5_000);
    // urlencoded is parsed flat (extended: false): the bracketed key is one unknown field.
    const form = await t.http().post(LOGIN).type('form').send(`${key}=1&username=alice&password=x`);
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.status).toBeLessThan(500);
    // The query parser is flat too.
    await t.http().get(`${API}/auth/whoami?${'a' + '[b]'.repeat(1_000)}=1`).expect(200);
    // cookie-parser turns `j:` cookies into values; Latchkey reads its cookies only as strings.
    const cookie = `j:${nestedArrays(4_000)}`;
    for (const name of ['tiled_api_key', 'lk_session', 'tiled_csrf', 'lk_device']) {
      const res = await t.http().get(`${API}/auth/whoami`).set('Cookie', `${name}=${cookie}`);
      expect(res.status).toBeLessThan(500);
    }
    expect(errorLines()).toEqual([]);
  });
});
