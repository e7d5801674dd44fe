import { createTestApp, TestApp } from './utils/create-test-app';

describe('OpenAPI', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
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

  it('lists the Tiled search routes the client browses, with their paging parameters', async () => {
    const { paths } = (await t.http().get('/openapi.json').expect(200)).body;
    const search = paths['/api/v1/search'].get;
    expect(search.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['page[offset]', 'page[limit]', 'fields', 'sort']));
    expect(search.parameters.find((p: { name: string }) => p.name === 'page[limit]').schema).toMatchObject({ minimum: 0, maximum: 300, default: 100 });
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/api/v1/metadata', '/api/v1/search/{path}']));
    expect(search.security).toEqual(expect.arrayContaining([{ bearer: [] }, { Apikey: [] }]));
  });

  it('serves the interactive docs at /api/docs', async () => {
    const res = await t.http().get('/api/docs').redirects(1).expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });
});
