/**
 * A browser for e2e tests, over real HTTP: one cookie jar for every host (cookies ignore the
 * port, as in a real browser, so the app and the local IdP on 127.0.0.1 share it), manual
 * redirects, and the local IdP's login form filled in when it shows up. No JavaScript.
 */
import { DEFAULT_PASSWORD } from './create-test-app';
import { CookieJar } from './local-idp';

export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** Every URL requested on the way, in order. */
  trail: string[];
}

export class TestBrowser {
  readonly jar = new CookieJar();

  constructor(private readonly accept = BROWSER_ACCEPT) {}

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const headers = new Headers({ accept: this.accept, ...init.headers });
    const cookie = this.jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    let body: string | undefined;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(target, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.jar.store(res.headers.getSetCookie(), target);
    return { url: target.href, status: res.status, headers: res.headers, body: await res.text(), trail: [target.href] };
  }

  /**
   * Opens `url` and follows redirects (GET) until a page that is not a redirect, or one whose
   * URL `stopAt` accepts (not requested). When the IdP shows its login form, submits `login`.
   */
  async open(
    url: string,
    options: { login?: { username: string; password: string }; stopAt?: (url: URL) => boolean; form?: Record<string, string> } = {},
  ): Promise<Page> {
    const trail: string[] = [];
    let next = new URL(url);
    let init: { method?: string; form?: Record<string, string> } = options.form ? { method: 'POST', form: options.form } : {};
    let loginPosted = false;
    for (let hop = 0; hop < 25; hop++) {
      if (options.stopAt?.(next)) return { url: next.href, status: 0, headers: new Headers(), body: '', trail };
      const page = await this.request(next.href, init);
      trail.push(next.href);
      if (page.status >= 300 && page.status < 400) {
        const location = page.headers.get('location');
        if (!location) throw new Error(`${page.status} without Location at ${next.href}`);
        next = new URL(location, next);
        init = {};
        continue;
      }
      const form = /<form id="login" method="post" action="([^"]+)"/.exec(page.body);
      if (page.status === 200 && form && options.login) {
        if (loginPosted) throw new Error('the IdP asked for the login twice');
        loginPosted = true;
        next = new URL(form[1].replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))).replace(/&amp;/g, '&'), next);
        init = { method: 'POST', form: options.login };
        continue;
      }
      return { ...page, trail };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  cookie(name: string, url: string): string | undefined {
    const header = this.jar.header(new URL(url));
    return header
      ?.split('; ')
      .find((c) => c.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  }
}

/** The value of a page's hidden `csrf` form field. */
export function csrfOf(body: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(body)?.[1];
}

/** A new browser logged in through the /login form of the app at `base` (its session cookie set). */
export async function loginInBrowser(base: string, username: string, password = DEFAULT_PASSWORD): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const form = await browser.request(`${base}/login`);
  const res = await browser.request(`${base}/login`, { form: { username, password, csrf: csrfOf(form.body)!, next: '/account' } });
  if (res.status !== 303) throw new Error(`login of ${username} through /login failed: ${res.status}`);
  return browser;
}
