import { CSRF_COOKIE } from '../http/csrf.check';
import { expiresSoon } from '../auth/credential-status';
import { safeEqual } from '../auth/token-format';
import { AppError } from '../errors/app-error';
import type { LatchkeyRequest } from '../http/request-context';
import { html, SafeHtml } from './html';

/** The hidden double-submit field every form of the pages carries (CsrfCheck reads `csrf`). */
export function csrfField(req: LatchkeyRequest): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${req.csrfToken ?? ''}">`;
}

/**
 * The login form carries no credential cookie yet, so CsrfCheck does not look at it; it is
 * checked here the same way (against login CSRF: a foreign site logging the browser in as
 * someone else).
 */
export function assertCsrf(req: LatchkeyRequest, field: string | undefined): void {
  const cookie = (req.cookies as Record<string, unknown> | undefined)?.[CSRF_COOKIE];
  if (typeof cookie !== 'string' || !cookie) throw new AppError('CSRF_FAILED', 'Expected tiled_csrf cookie: reload the page and try again.');
  if (typeof field !== 'string' || !safeEqual(field, cookie)) throw new AppError('CSRF_FAILED', 'The form is out of date: reload the page and try again.');
}

/**
 * `2026-12-03 10:16 UTC` in a <time> element (server-rendered: no script, no time zone guess).
 * In a narrow column it wraps between the date and the time, never inside either.
 */
export function when(date: Date | string | null | undefined, empty = '—'): SafeHtml {
  if (!date) return html`<span class="muted">${empty}</span>`;
  const d = typeof date === 'string' ? new Date(date) : date;
  const iso = d.toISOString();
  return html`<time datetime="${iso}"><span>${iso.slice(0, 10)}</span> <span>${iso.slice(11, 16)} UTC</span></time>`;
}

/** A list of scopes; an empty one reads "none" (a key restricted to nothing), never a blank cell. */
export function scopeList(scopes: readonly string[], separator = ', '): SafeHtml {
  return scopes.length ? html`<span class="small">${scopes.join(separator)}</span>` : html`<span class="small muted">none</span>`;
}

/**
 * A table of the live rows, with the revoked and expired ones folded away under it (open on a
 * click): what one acts on stays in view, the history stays one click away.
 */
export function liveAndFolded(head: SafeHtml, live: SafeHtml[], gone: SafeHtml[], what: string, id: string): SafeHtml {
  const table = (rows: SafeHtml[]) => html`<table class="cards"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
  return html`${live.length ? table(live) : html`<p class="empty">No active ${what}.</p>`}
${gone.length ? html`<details class="more folded" id="${id}"><summary>${gone.length} revoked or expired</summary>${table(gone)}</details>` : ''}`;
}

export function badge(status: string): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

/** A second badge for a live key or token that expires within EXPIRY_WARNING_DAYS (its date in the title). */
export function expiryBadge(c: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): SafeHtml | '' {
  return expiresSoon(c, now) ? html` <span class="badge expiring" title="Expires ${c.expiresAt!.toISOString()}">expires soon</span>` : '';
}

/** "Firefox on Linux" from a User-Agent (a rough guess for people; the full string is the title). */
export function device(userAgent: string | null): SafeHtml {
  if (!userAgent) return html`<span class="muted">unknown</span>`;
  const browser =
    /Edg\//.test(userAgent) ? 'Edge'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrom(e|ium)\//.test(userAgent) ? (/HeadlessChrome/.test(userAgent) ? 'Headless Chrome' : 'Chrome')
    : /Safari\//.test(userAgent) ? 'Safari'
    : /^curl\//.test(userAgent) ? 'curl'
    : /python|tiled/i.test(userAgent) ? 'Python client'
    : undefined;
  const os =
    /Android/.test(userAgent) ? 'Android'
    : /iPhone|iPad/.test(userAgent) ? 'iOS'
    : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X/.test(userAgent) ? 'macOS'
    : /Linux/.test(userAgent) ? 'Linux'
    : undefined;
  const label = browser ? (os ? `${browser} on ${os}` : browser) : userAgent.slice(0, 40);
  return html`<span title="${userAgent}">${label}</span>`;
}

/** A button that opens a small "are you sure?" box with the real submit button (no script). */
export function confirmButton(req: LatchkeyRequest, action: string, label: string, question: string, confirm: string, id?: string): SafeHtml {
  return html`<details class="confirm"><summary class="button danger small"${id ? html` id="${id}"` : ''}>${label}</summary>
<form method="post" action="${action}" class="ask">${csrfField(req)}<p>${question}</p><button type="submit" class="danger small">${confirm}</button></form></details>`;
}
