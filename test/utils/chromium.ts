/**
 * A real Chromium for the browser suites (test/browser/*.e2e-spec.ts): Debian's `chromium`
 * package driven by playwright-core. No browser is ever downloaded: `.ci/run` installs the
 * package with apt-get, and on a machine without it the suites are skipped, not failed (unless
 * CI is set: there a missing browser is a failure).
 *
 *   const chromium = chromiumOrSkip();          // at module level
 *   chromium.describe('…', () => { … });        // describe, or describe.skip with the reason
 *   const browser = await launchChromium();     // in beforeAll
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(__dirname, '..', 'artifacts');

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * `describe` when /usr/bin/chromium exists; otherwise `describe.skip` with a message saying why,
 * or, under CI, a suite whose one test fails with the install command.
 */
export function chromiumOrSkip(): { describe: (name: string, fn: () => void) => void; available: boolean } {
  if (existsSync(CHROMIUM_PATH)) return { describe: (name, fn) => describe(name, fn), available: true };
  const install = 'apt-get install -y chromium (as .ci/run does)';
  if (process.env.CI) {
    return {
      available: false,
      describe: (name) =>
        describe(name, () => {
          it('needs Chromium', () => {
            throw new Error(`CI is set but ${CHROMIUM_PATH} is missing: ${install}`);
          });
        }),
    };
  }
  return {
    available: false,
    describe: (name, fn) => {
      // eslint-disable-next-line no-console
      console.warn(`SKIPPED browser suite "${name}": ${CHROMIUM_PATH} not found (${install} to run it).`);
      describe.skip(`${name} [skipped: no ${CHROMIUM_PATH}]`, fn);
    },
  };
}

export interface LaunchedChromium {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile: playwright-core's launch() gives every browser a new
 * temporary user-data dir of its own (it refuses a `--user-data-dir` argument) and removes it on close.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 30_000 });
  return {
    browser,
    close: () => browser.close().catch(() => undefined),
  };
}

/** A new context (own cookies), laptop-sized unless told otherwise, with clipboard access for `origin`. */
export async function newContext(browser: Browser, origin: string, options: { phone?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext(
    options.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } },
  );
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  return context;
}

/** Saves a full-page screenshot as test/artifacts/<name>.png (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
