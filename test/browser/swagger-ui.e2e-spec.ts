import type { BrowserContext, Page } from 'playwright-core';
import { createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { chromiumOrSkip, launchChromium, LaunchedChromium, newContext, screenshot } from '../utils/chromium';

const chromium = chromiumOrSkip();

/**
 * The interactive docs as a reader uses them: "Authorize" with the password flow (the document's
 * OAuth2PasswordBearer scheme, tokenUrl on this server), then "Try it out" on an operation that
 * needs the token it got, in a real (headless) Chromium running Swagger UI's own JavaScript.
 */
chromium.describe('Swagger UI in Chromium: Authorize with the password flow, then Try it out', () => {
  let t: TestApp;
  let base: string;
  let chrome: LaunchedChromium;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('alice');
    chrome = await launchChromium();
    context = await newContext(chrome.browser, base);
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await chrome?.close();
    await t?.close();
  });

  /** Expands an operation, presses "Try it out" and "Execute"; returns the status and body shown. */
  async function tryItOut(operationId: string, tag: string): Promise<{ status: string; body: string }> {
    const op = page.locator(`#operations-${tag}-${operationId}`);
    await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const row = op.locator('.live-responses-table tbody tr.response').first();
    await row.waitFor();
    return { status: (await row.locator('.response-col_status').innerText()).trim(), body: await row.locator('.response-col_description pre').first().innerText() };
  }

  it('lists the operations, refuses an anonymous call, and after Authorize sends the token it got', async () => {
    await page.goto(`${base}/api/docs`);
    await page.locator('#operations-auth-AuthController_credential').waitFor();

    // Without authorizing, the operation's call goes out without a credential: a documented 401.
    const anonymous = await tryItOut('AuthController_credential', 'auth');
    expect(anonymous.status).toBe('401');
    expect(JSON.parse(anonymous.body)).toMatchObject({ code: 'AUTH_REQUIRED' });
    // Anew, without the deep link (#/auth/…) that would open the operation already.
    await page.goto(`${base}/api/docs`);

    await page.locator('button.authorize').first().click();
    const password = page.locator('.auth-container', { hasText: 'OAuth2PasswordBearer' });
    await password.locator('#oauth_username').fill('alice');
    await password.locator('#oauth_password').fill(DEFAULT_PASSWORD);
    await screenshot(page, 'swagger-ui-authorize');
    await password.locator('button.authorize').click();
    // Swagger UI shows "Authorized" and a Logout button once the token endpoint answered with a token.
    await password.getByText('Authorized').waitFor();
    await page.locator('.modal-ux button.close-modal').click();

    const answer = await tryItOut('AuthController_credential', 'auth');
    expect(answer.status).toBe('200');
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'user', username: 'alice', credential: { type: 'access_token' } });
    await screenshot(page, 'swagger-ui-try-it-out');
  });
});
