import { createTestApp, TestApp } from './utils/create-test-app';

const API = '/api/v1';

/** Double-submit CSRF check for requests that carry a credential cookie (Tiled contract §11). */
describe('CSRF protection', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('a state-changing request carrying the API-key cookie needs x-csrf equal to the tiled_csrf cookie', async () => {
    const noCsrfCookie = await t.http().post(`${API}/auth/logout`).set('Cookie', 'tiled_api_key=abc').expect(403);
    expect(noCsrfCookie.body).toMatchObject({ code: 'CSRF_FAILED', detail: 'Expected tiled_csrf cookie' });

    const noHeader = await t.http().post(`${API}/auth/logout`).set('Cookie', 'tiled_api_key=abc; tiled_csrf=token-1').expect(403);
    expect(noHeader.body.detail).toBe('Expected csrf query parameter or x-csrf header');

    const mismatch = await t
      .http()
      .post(`${API}/auth/logout`)
      .set('Cookie', 'tiled_api_key=abc; tiled_csrf=token-1')
      .set('x-csrf', 'token-2')
      .expect(403);
    expect(mismatch.body.detail).toBe('Double-submit CSRF tokens do not match');

    await t.http().post(`${API}/auth/logout`).set('Cookie', 'tiled_api_key=abc; tiled_csrf=token-1').set('x-csrf', 'token-1').expect(200);
  });

  it('does not check safe methods, nor clients that send no credential cookie (Bearer, refresh with x-csrf only)', async () => {
    await t.http().get(`${API}/`).set('Cookie', 'tiled_api_key=abc').expect(200);
    await t.http().post(`${API}/auth/logout`).expect(200);
    // The Tiled client's refresh: x-csrf header, no cookies at all.
    const res = await t.http().post(`${API}/auth/session/refresh`).set('x-csrf', 'whatever').send({ refresh_token: 'lk_rt_x' });
    expect(res.status).toBe(401);
  });
});
