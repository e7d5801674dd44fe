import type { BrowserContext, Page } from 'playwright-core';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { chromiumOrSkip, launchChromium, LaunchedChromium, newContext, screenshot } from '../utils/chromium';

const API = '/api/v1';
const chromium = chromiumOrSkip();

/**
 * Scenarios 1 and 2 of the pages in a real (headless) Chromium: a password login, an API key
 * created, copied, used and revoked; a maintainer's deploy token created, renamed, rotated and
 * revoked; the administration page. Each step's page is saved under test/artifacts/ (laptop and phone widths).
 */
chromium.describe('pages in Chromium: password login, API keys, deploy tokens', () => {
  let t: TestApp;
  let base: string;
  let chrome: LaunchedChromium;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('alice');
    await t.createUser('anna');
    await t.createUser('root', DEFAULT_PASSWORD, ['user', 'admin']);
    chrome = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chrome?.close();
    await t?.close();
  });

  async function open(options: { phone?: boolean } = {}): Promise<Page> {
    const context = await newContext(chrome.browser, base, options);
    contexts.push(context);
    return context.newPage();
  }

  /** Logs in through /login, starting from a page that needs a login. */
  async function logIn(page: Page, username: string, start = '/account', shot?: string): Promise<void> {
    await page.goto(`${base}${start}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#username', username);
    await page.fill('#password', DEFAULT_PASSWORD);
    if (shot) await screenshot(page, shot);
    await Promise.all([page.waitForURL(`${base}${start}`), page.click('#login-form button[type=submit]')]);
  }

  const whoami = (secret: string) => fetch(`${base}${API}/auth/whoami`, { headers: { Authorization: `Apikey ${secret}` } });

  it('scenario 1: log in, create an API key, copy the secret once, use it, revoke it in the page', async () => {
    const page = await open();
    await page.goto(`${base}/login`);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wrong password');
    await page.click('#login-form button[type=submit]');
    await expect(page.locator('#login-error').textContent()).resolves.toContain('Incorrect username or password');
    await screenshot(page, '1-login-error');

    // A key restricted to no scope at all, made over the API: the page says "none", not a blank.
    const { access_token } = await t.login('alice');
    const bare = await fetch(`${base}${API}/auth/apikey`, {
      method: 'POST',
      headers: { ...bearer(access_token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ scopes: [], expires_in: null, note: 'no scopes' }),
    });
    expect(bare.status).toBe(200);
    const bareFirstEight = ((await bare.json()) as { first_eight: string }).first_eight;

    await logIn(page, 'alice', '/account', '1-login');
    await expect(page.locator('#username').textContent()).resolves.toBe('alice');
    await expect(page.locator(`tr[data-first-eight="${bareFirstEight}"] td[data-label="Scopes"]`).textContent()).resolves.toBe('none');
    // The favicon is inline, and the page's CSP lets it load.
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toMatch(/^data:image\/svg\+xml,/);
    // (A string: the suites are typed without the DOM library.)
    const iconWidth = await page.evaluate(`new Promise((done) => {
      const img = new Image();
      img.onload = () => done(img.naturalWidth);
      img.onerror = () => done(-1);
      img.src = document.querySelector('link[rel=icon]').href;
    })`);
    expect(iconWidth).toBeGreaterThan(0);

    await page.fill('#note', 'laptop scripts');
    await page.selectOption('#expires_in', String(30 * 24 * 3600));
    await Promise.all([page.waitForLoadState('load'), page.click('#create-key-submit')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Your new API key');
    const shown = await page.locator('#secret').inputValue();
    expect(shown).toMatch(/^lk_pat_\w+$/);
    // The page's URL is the plain account page: never the secret, and a reload posts nothing again.
    expect(page.url()).toBe(`${base}/account`);

    await page.click('button[data-copy=secret]');
    // The copy is async (navigator.clipboard): wait for the label rather than reading it once.
    await page.locator('button[data-copy=secret]', { hasText: 'Copied' }).waitFor({ timeout: 5000 });
    const copied = String(await page.evaluate('navigator.clipboard.readText()'));
    expect(copied).toBe(shown);
    await screenshot(page, '1-api-key-shown-once');

    await page.reload();
    expect(page.url()).toBe(`${base}/account`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Your account');
    expect(await page.content()).not.toContain(copied);
    expect(await page.locator('#secret').count()).toBe(0);

    const used = await whoami(copied);
    expect(used.status).toBe(200);
    expect(((await used.json()) as { identities: { id: string }[] }).identities[0].id).toBe('alice');

    const firstEight = copied.slice('lk_pat_'.length, 'lk_pat_'.length + 8);
    const row = page.locator(`tr[data-first-eight="${firstEight}"]`);
    await expect(row.locator('.badge').textContent()).resolves.toBe('active');
    await page.click(`#revoke-key-${firstEight}`);
    await screenshot(page, '1-api-key-revoke-confirm');
    await Promise.all([page.waitForURL(/done=key-revoked/), row.locator('button.danger').click()]);
    await expect(page.locator('.notice').textContent()).resolves.toContain('API key revoked');
    // Revoked keys are folded away under the live ones, one click from view.
    await expect(row.isVisible()).resolves.toBe(false);
    await expect(page.locator('#inactive-keys summary').textContent()).resolves.toBe('1 revoked or expired');
    await page.click('#inactive-keys summary');
    await expect(row.isVisible()).resolves.toBe(true);
    await expect(row.locator('.badge').textContent()).resolves.toBe('revoked');
    await screenshot(page, '1-account-after-revoke');

    const refused = await whoami(copied);
    expect(refused.status).toBe(401);

    // The same account on a phone.
    const phone = await open({ phone: true });
    await logIn(phone, 'alice');
    await screenshot(phone, '1-account-phone');
  });

  it('scenario 2: a maintainer creates a plugin, then creates, renames, rotates and revokes a deploy token', async () => {
    const page = await open();
    await logIn(page, 'anna', '/plugins');
    await expect(page.locator('main').textContent()).resolves.toContain('You maintain no plugin yet');
    // A name the API refuses is refused by the form too, before anything is sent.
    await page.fill('#plugin-name', 'Fancy Plugin');
    await expect(page.locator('#plugin-name:invalid').count()).resolves.toBe(1);
    await page.fill('#plugin-name', 'fancy-plugin');
    await expect(page.locator('#plugin-name:invalid').count()).resolves.toBe(0);
    await page.fill('#plugin-display-name', 'FancyPlugin');
    await Promise.all([page.waitForURL(`${base}/plugins/fancy-plugin/tokens?done=plugin-created`), page.click('#create-plugin-submit')]);
    await expect(page.locator('.notice').textContent()).resolves.toContain('Plugin created');
    await expect(page.locator('#maintainers p').first().textContent()).resolves.toBe('anna');

    await page.goto(`${base}/plugins`);
    await Promise.all([page.waitForURL(`${base}/plugins/fancy-plugin/tokens#invite-maintainer`), page.click('a:has-text("Invite a maintainer")')]);
    await expect(page.locator('#invite-username').isVisible()).resolves.toBe(true);
    await page.goto(`${base}/plugins`);
    await screenshot(page, '2-plugins');
    await Promise.all([page.waitForURL(`${base}/plugins/fancy-plugin/tokens`), page.click('a:has-text("Manage tokens")')]);

    await page.fill('#description', 'github action');
    await Promise.all([page.waitForLoadState('load'), page.click('#create-token-submit')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Your new deploy token');
    const first = await page.locator('#secret').inputValue();
    expect(first).toMatch(/^lk_dpl_/);
    expect(page.url()).toBe(`${base}/plugins/fancy-plugin/tokens`);
    await screenshot(page, '2-deploy-token-shown-once');

    // CI uploads a version with it: the page names the token as the uploader.
    const form = new FormData();
    form.set('version', '1.0.0');
    form.set('file', new Blob(['tarball']), 'fancy-plugin-1.0.0.tar.gz');
    const upload = await fetch(`${base}${API}/plugins/fancy-plugin/versions`, { method: 'POST', headers: bearer(first), body: form });
    expect(upload.status).toBe(201);

    await page.click('#done');
    await page.waitForURL(`${base}/plugins/fancy-plugin/tokens`);
    expect(await page.content()).not.toContain(first);
    const row = page.locator('#tokens tbody tr').first();
    await expect(row.locator('td[data-label="Last used"]').textContent()).resolves.toMatch(/UTC/);
    await expect(page.locator('#versions').textContent()).resolves.toContain('Token github action');

    // Rename in place.
    await row.locator('input[name=description]').fill('release workflow');
    await Promise.all([page.waitForURL(/done=token-renamed/), row.locator('button:has-text("Save")').click()]);
    await expect(page.locator('.notice').textContent()).resolves.toContain('Description saved');
    await expect(row.locator('input[name=description]').inputValue()).resolves.toBe('release workflow');

    // Rotate with an hour of overlap: both secrets work meanwhile.
    await row.locator('summary:has-text("Rotate")').click();
    await row.locator('select[name=overlap_seconds]').selectOption('3600');
    await screenshot(page, '2-deploy-token-rotate');
    await Promise.all([page.waitForLoadState('load'), row.locator('form[action$="/rotate"] button').click()]);
    await expect(page.locator('h1').textContent()).resolves.toBe('New secret for a deploy token');
    await expect(page.locator('main').textContent()).resolves.toContain('The old secret keeps working until');
    const second = await page.locator('#secret').inputValue();
    expect(second).not.toBe(first);
    await page.reload();
    expect(await page.content()).not.toContain(second);
    const uploadWith = async (secret: string, version: string) => {
      const body = new FormData();
      body.set('version', version);
      body.set('file', new Blob([version]), `fancy-plugin-${version}.tar.gz`);
      return (await fetch(`${base}${API}/plugins/fancy-plugin/versions`, { method: 'POST', headers: bearer(secret), body })).status;
    };
    expect(await uploadWith(first, '1.0.1')).toBe(201);
    expect(await uploadWith(second, '1.0.2')).toBe(201);
    await expect(row.locator('td[data-label="Status"]').textContent()).resolves.toContain('old secret until');
    // At 1280 px the table fits its card: nothing scrolls sideways, Rotate and Revoke are whole.
    const card = page.locator('#tokens');
    await expect(card.evaluate((el) => el.scrollWidth - el.clientWidth)).resolves.toBeLessThanOrEqual(0);
    const cardBox = (await card.boundingBox())!;
    for (const label of ['Rotate', 'Revoke']) {
      const box = (await row.locator(`summary:has-text("${label}")`).boundingBox())!;
      expect([label, box.x + box.width <= cardBox.x + cardBox.width]).toEqual([label, true]);
    }
    await screenshot(page, '2-deploy-tokens');

    // Each version has a download link: the browser session fetches the file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('tr[data-version="1.0.0"] a:has-text("Download")').click()]);
    expect(download.suggestedFilename()).toBe('fancy-plugin-1.0.0.tar.gz');
    const file = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of file) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('tarball');

    // Revoke, confirmed.
    await row.locator('summary:has-text("Revoke")').click();
    await Promise.all([page.waitForURL(/done=token-revoked/), row.locator('form[action$="/revoke"] button').click()]);
    // The revoked token is folded away; the summary opens it.
    await expect(page.locator('#tokens > table').count()).resolves.toBe(0);
    await page.click('#inactive-tokens summary');
    await expect(page.locator('#inactive-tokens tbody tr').first().locator('.badge').textContent()).resolves.toBe('revoked');
    expect(await uploadWith(second, '1.0.3')).toBe(401);
    expect(await uploadWith(first, '1.0.3')).toBe(401);
    await screenshot(page, '2-deploy-tokens-revoked');

    const phone = await open({ phone: true });
    await logIn(phone, 'anna', '/plugins/fancy-plugin/tokens');
    await screenshot(phone, '2-deploy-tokens-phone');
  });

  it('scenario 2b: a maintainer invites someone on the plugin page; the invitee accepts on /plugins and becomes a maintainer', async () => {
    const anna = await open();
    await logIn(anna, 'anna', '/plugins/fancy-plugin/tokens');
    await anna.fill('#invite-username', 'alice');
    await Promise.all([anna.waitForURL(/done=invited/), anna.click('#invite-submit')]);
    await expect(anna.locator('.notice').textContent()).resolves.toContain('Invitation sent');
    await expect(anna.locator('#maintainers').textContent()).resolves.toContain('alice');
    await screenshot(anna, '2b-invitation-sent');

    const alice = await open();
    await logIn(alice, 'alice', '/plugins');
    const invitation = alice.locator('#invitations tbody tr').first();
    await expect(invitation.textContent()).resolves.toContain('FancyPlugin');
    await screenshot(alice, '2b-invitation-received');
    await Promise.all([alice.waitForURL(/\/plugins\/fancy-plugin\/tokens\?done=invitation-accepted/), invitation.locator('button:has-text("Accept")').click()]);
    await expect(alice.locator('.notice').textContent()).resolves.toContain('you are now a maintainer');
    await expect(alice.locator('#maintainers p').first().textContent()).resolves.toBe('anna, alice');
    await screenshot(alice, '2b-invitation-accepted');
  });

  it('scenario 2c: a maintainer trusts a CI workflow on the plugin page, sees it listed, and removes it', async () => {
    const page = await open();
    await logIn(page, 'anna', '/plugins/fancy-plugin/tokens');
    const card = page.locator('#trusted-publishers');
    await expect(card.isVisible()).resolves.toBe(true);
    await expect(card.textContent()).resolves.toContain('No trusted publishers yet');
    await expect(card.textContent()).resolves.toContain('lives 15 minutes');
    await expect(page.locator('#add-publisher').isVisible()).resolves.toBe(true);
    await expect(page.locator('#publisher-issuer option').allTextContents()).resolves.toEqual(['GitHub Actions', 'GitLab CI/CD']);
    // Repository and workflow are required: the browser refuses to send the form without them.
    await expect(page.locator('#publisher-repository:invalid').count()).resolves.toBe(1);

    await page.selectOption('#publisher-issuer', 'github');
    await page.fill('#publisher-repository', 'acme/fancy-plugin');
    await page.fill('#publisher-workflow', 'release.yml');
    await page.fill('#publisher-environment', 'release');
    await page.fill('#publisher-ref', 'refs/tags/v*');
    await screenshot(page, '2c-trusted-publisher-form');
    await Promise.all([page.waitForURL(/done=publisher-added/), page.click('#add-publisher-submit')]);
    await expect(page.locator('.notice').textContent()).resolves.toContain('Trusted publisher added');
    const row = card.locator('tbody tr').first();
    const cell = (label: string) => row.locator(`td[data-label="${label}"]`).textContent();
    await expect(cell('CI')).resolves.toBe('GitHub Actions');
    await expect(cell('Repository')).resolves.toBe('acme/fancy-plugin');
    await expect(cell('Workflow')).resolves.toBe('release.yml');
    await expect(cell('Environment')).resolves.toBe('release');
    await expect(cell('Ref')).resolves.toBe('refs/tags/v*');
    await expect(cell('Last used')).resolves.toBe('never');
    // At 1280 px the table fits its card, Remove included.
    await expect(card.evaluate((el) => el.scrollWidth - el.clientWidth)).resolves.toBeLessThanOrEqual(0);
    await screenshot(page, '2c-trusted-publishers');

    await row.locator('summary:has-text("Remove")').click();
    await Promise.all([page.waitForURL(/done=publisher-removed/), row.locator('form[action$="/remove"] button').click()]);
    await expect(page.locator('.notice').textContent()).resolves.toContain('Trusted publisher removed');
    await expect(card.textContent()).resolves.toContain('No trusted publishers yet');

    const phone = await open({ phone: true });
    await logIn(phone, 'anna', '/plugins/fancy-plugin/tokens');
    await phone.locator('#trusted-publishers').scrollIntoViewIfNeeded();
    await screenshot(phone, '2c-trusted-publishers-phone');
  });

  it('the administration page: users with disable and revoke-all, recent events', async () => {
    const page = await open();
    await logIn(page, 'root', '/admin');
    // root is the only administrator: disabling them would be refused, so it is not offered.
    const root = page.locator('tr[data-user="root"]');
    await expect(root.locator('summary:has-text("Disable")').count()).resolves.toBe(0);
    await expect(root.textContent()).resolves.toContain('last administrator');
    const { access_token } = await t.login('root');
    const anna = (await t.http().get('/api/v1/admin/users?name=anna').set(bearer(access_token)).expect(200)).body.items[0];
    await t.http().put(`/api/v1/admin/users/${anna.id}/roles`).set(bearer(access_token)).send({ roles: ['user', 'admin'] }).expect(200);
    await page.reload();
    await expect(root.locator('summary:has-text("Disable")').count()).resolves.toBe(1);
    await t.http().put(`/api/v1/admin/users/${anna.id}/roles`).set(bearer(access_token)).send({ roles: ['user'] }).expect(200);
    await page.reload();
    const alice = page.locator('tr[data-user="alice"]');
    await expect(alice.locator('.badge').textContent()).resolves.toBe('active');
    await alice.locator('summary:has-text("Disable")').click();
    await screenshot(page, '5-admin-disable-confirm');
    await Promise.all([page.waitForURL(/done=user-disabled/), alice.locator('form[action$="/disable"] button').click()]);
    await expect(alice.locator('.badge').textContent()).resolves.toBe('disabled');
    await Promise.all([page.waitForURL(/done=user-enabled/), alice.locator('button:has-text("Enable")').click()]);
    await expect(alice.locator('.badge').textContent()).resolves.toBe('active');
    await screenshot(page, '5-admin');
    const phone = await open({ phone: true });
    await logIn(phone, 'root', '/admin');
    await screenshot(phone, '5-admin-phone');
  });
});
