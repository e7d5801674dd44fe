import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { UserPrincipal } from '../auth/principal';
import { API_PREFIX } from '../http/base-url';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { html, SafeHtml } from './html';
import type { LatchkeyReply } from '../http/request-context';

const STYLE = `
:root{color-scheme:light dark;--fg:#1d232b;--bg:#f4f6f8;--card:#fff;--muted:#5b6573;--accent:#2456d6;--accent-fg:#fff;--warn:#8a4b00;--warn-bg:#fff4e0;--danger:#b42318;--ok:#1a7f37;--ok-bg:#e8f5ec;--border:#d9dee5;--stripe:#f8f9fb}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--bg:#14171c;--card:#1d2127;--muted:#9aa4b2;--accent:#7ea2ff;--accent-fg:#0d1117;--warn:#ffb45e;--warn-bg:#3a2a12;--danger:#ff8a80;--ok:#7ee2a0;--ok-bg:#16301f;--border:#323844;--stripe:#22272e}}
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.top{background:var(--card);border-bottom:1px solid var(--border)}
header.top .in{max-width:64rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem}
.brand{font-weight:700;color:var(--fg);text-decoration:none;margin-right:auto}
nav.main{display:flex;flex-wrap:wrap;gap:.2rem .9rem;align-items:center}nav.main a{text-decoration:none}nav.main a[aria-current]{font-weight:600;text-decoration:underline}
.who{color:var(--muted);font-size:.9rem}
main{max-width:64rem;margin:1.5rem auto 3rem;padding:0 1rem}main.narrow{max-width:30rem}
.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:1.25rem 1.5rem;margin:0 0 1.25rem;overflow-x:auto}
h1{font-size:1.45rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:0 0 .75rem}p{margin:.6rem 0}
.muted{color:var(--muted)}.small{font-size:.875rem}.warn{color:var(--warn);font-weight:600}
.alert{border:2px solid var(--warn)}.alert h2{color:var(--warn)}
.notice{background:var(--ok-bg);color:var(--ok);border-radius:8px;padding:.6rem .9rem;margin:0 0 1.25rem;font-weight:500}
.error{background:var(--warn-bg);color:var(--danger);border-radius:8px;padding:.6rem .9rem;margin:.5rem 0 1rem;font-weight:500}
a{color:var(--accent)}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
textarea,input[type=text],input[type=password],select{font:inherit;padding:.45rem .6rem;border:1px solid var(--border);border-radius:6px;background:var(--bg);color:var(--fg);max-width:100%}
textarea{width:100%;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-all;resize:vertical}
.field{display:flex;flex-direction:column;gap:.25rem;margin:0 0 .8rem}.field label{font-weight:600;font-size:.9rem}.field input{width:100%}
.row{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end}.row .field{flex:1 1 12rem;margin:0}.row+.row{margin-top:.6rem}.row input,.row select{height:2.45rem}
.button,button{display:inline-block;font:inherit;font-size:.95rem;line-height:1.3;padding:.45rem .95rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);text-decoration:none;cursor:pointer;white-space:nowrap}
.button.secondary,button.secondary{background:transparent;color:var(--accent)}
button.danger,.button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
button.link{background:none;border:none;color:var(--accent);padding:0;text-decoration:underline}
button.small,.button.small{padding:.25rem .6rem;font-size:.85rem}
.or{margin-top:1.2rem}.stack{display:flex;flex-direction:column;gap:.6rem}.stack .button{text-align:center}
form{margin:0}form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
details.confirm{display:inline-block;position:relative}details.confirm>summary{list-style:none;cursor:pointer}details.confirm>summary::-webkit-details-marker{display:none}
details.confirm .ask{position:absolute;right:0;top:calc(100% + .3rem);z-index:2;width:max-content;max-width:19rem;border:1px solid var(--danger);border-radius:8px;padding:.6rem .75rem;background:var(--card);box-shadow:0 6px 18px rgba(0,0,0,.15)}
details.confirm .ask select{margin:0 0 .5rem;width:100%}#everywhere details.confirm .ask{left:0;right:auto}
td .mono,time>span{white-space:nowrap}
details.confirm .ask p{margin:0 0 .4rem;font-size:.9rem}
details.more>summary{cursor:pointer;color:var(--accent);margin:.4rem 0}details.folded{margin:.6rem 0 .2rem}
.scopes{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.2rem .8rem;margin:.4rem 0}.scopes label{font-weight:400;font-size:.9rem}
table{width:100%;border-collapse:collapse;font-size:.925rem}th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600}tbody tr:nth-child(even){background:var(--stripe)}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;border:1px solid currentColor}
.badge.active{color:var(--ok)}.badge.revoked,.badge.disabled{color:var(--danger)}.badge.expired,.badge.expiring{color:var(--warn)}.badge.current{color:var(--accent)}
.empty{color:var(--muted);font-style:italic}
.rename{display:flex;gap:.3rem;align-items:center}.rename input{flex:1 1 8rem;min-width:6rem;width:10rem;padding:.25rem .45rem}
.secret{display:flex;gap:.5rem;align-items:stretch;flex-wrap:wrap}.secret textarea{flex:1 1 20rem}
@media (max-width:44rem){
 main{margin-top:1rem}.card{padding:1rem}
 table.cards thead{display:none}table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards tr{border:1px solid var(--border);border-radius:8px;margin:0 0 .7rem;padding:.3rem .2rem;background:var(--card)}
 table.cards td{border:none;padding:.3rem .6rem .3rem 7.4rem;position:relative;min-height:1.9rem;overflow-wrap:anywhere}
 table.cards td::before{content:attr(data-label);position:absolute;left:.6rem;top:.45rem;width:6.4rem;color:var(--muted);font-size:.75rem;text-transform:uppercase;letter-spacing:.03em}
 table.cards td[data-label=""]{padding-left:.6rem}table.cards td:empty{display:none}
 header.top .in{gap:.3rem .9rem}.who{display:none}
 details.confirm{display:block}details.confirm .ask{position:static;width:auto;max-width:none;margin-top:.4rem;box-shadow:none}
}
`;

/** A key in a rounded square, inline (the CSP allows data: images; no request for /favicon.ico). */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232456d6'/%3E" +
  "%3Ccircle cx='12' cy='16' r='5.5' fill='none' stroke='%23fff' stroke-width='3'/%3E%3Cpath d='M17 16h10M23 16v5M27 16v4' stroke='%23fff' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E";

/**
 * The only script a page carries (secret pages): the copy button, and turning the history entry
 * of the POST that showed a secret into the page's plain URL, so that reloading does not post
 * again (which would make another secret) and never shows this one again.
 */
const SCRIPT = `
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.hidden = false;
  b.addEventListener('click', async () => {
    const field = document.getElementById(b.dataset.copy);
    try { await navigator.clipboard.writeText(field.value); } catch { field.select(); document.execCommand('copy'); }
    b.textContent = 'Copied';
  });
}
const back = document.body.dataset.replaceUrl;
if (back) history.replaceState(null, '', back);
`;

/** Who is looking at a page (for the navigation bar and the log-out form). */
export interface Viewer {
  principal: UserPrincipal;
  csrf: string;
}

export type NavItem = 'account' | 'plugins' | 'admin';

export interface PageOptions {
  viewer?: Viewer;
  /** Marks the current item of the navigation bar. */
  nav?: NavItem;
  /** A confirmation shown above the page (after a redirect: "API key revoked"). */
  notice?: string;
  /** A narrow page (login, logout, errors). */
  narrow?: boolean;
  /** Adds the copy-button script (with a CSP nonce). */
  script?: boolean;
  /** With `script`: the URL the history entry gets (see SCRIPT). */
  replaceUrl?: string;
  headers?: Record<string, string>;
}

/**
 * Renders and sends Latchkey's own pages: no external assets, inline CSS, no script except the
 * nonce'd copy button of a secret page, never cached, never framed, no Referer leaving the page
 * (a page may show a secret once).
 */
@Injectable()
export class PagesService {
  private readonly csp: string;

  constructor(@InjectConfig() config: AppConfig) {
    // A form that posts here may be redirected on to an IdP (RP-initiated logout): allow those origins.
    const idps = [...new Set(config.oidc.providers.map((p) => new URL(p.issuer).origin))].join(' ');
    this.csp = `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' ${idps}; base-uri 'none'; frame-ancestors 'none'`;
  }

  send(res: LatchkeyReply, status: number, title: string, body: SafeHtml, options: PageOptions = {}): void {
    const nonce = options.script ? randomBytes(16).toString('base64') : undefined;
    const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Latchkey</title><link rel="icon" href="${FAVICON}"><style>${new SafeHtml(STYLE)}</style></head>
<body${options.replaceUrl ? html` data-replace-url="${options.replaceUrl}"` : ''}>${this.header(options)}
<main${options.narrow ? html` class="narrow"` : ''}>${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.viewer ? html`<h1>${title}</h1>${body}` : html`<div class="card"><h1>${title}</h1>${body}</div>`}</main>
${nonce ? html`<script nonce="${nonce}">${new SafeHtml(SCRIPT)}</script>` : ''}</body></html>`;
    res
      .code(status)
      .headers({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': nonce ? `${this.csp}; script-src 'nonce-${nonce}'` : this.csp,
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
        ...options.headers,
      })
      .send(page.value);
  }

  /** A secret shown once: a read-only field, a copy button, the warning, and what to do with it. */
  secretOnce(res: LatchkeyReply, title: string, secret: string, intro: SafeHtml, usage: SafeHtml, options: PageOptions = {}): void {
    const body = html`${intro}
<div class="secret"><textarea id="secret" rows="3" readonly autofocus aria-label="${title}">${secret}</textarea>
<button type="button" data-copy="secret" hidden>Copy</button></div>
<p class="warn" id="once">Copy it now: you will not see it again. Reloading this page does not show it again.</p>
${usage}`;
    this.send(res, 200, title, options.viewer ? html`<section class="card">${body}</section>` : body, { ...options, script: true });
  }

  error(res: LatchkeyReply, status: number, title: string, message: string, retry?: { href: string; label: string }, options: PageOptions = {}): void {
    this.send(
      res,
      status,
      title,
      html`<p class="error" role="alert">${message}</p>${retry ? html`<p><a class="button" href="${retry.href}">${retry.label}</a></p>` : ''}`,
      { narrow: true, ...options, viewer: undefined },
    );
  }

  private header(options: PageOptions): SafeHtml {
    const viewer = options.viewer;
    const item = (name: NavItem, href: string, label: string) =>
      html`<a href="${href}"${options.nav === name ? html` aria-current="page"` : ''}>${label}</a>`;
    return html`<header class="top"><div class="in"><a class="brand" href="/account">Latchkey</a>
${viewer
  ? html`<nav class="main" aria-label="Main">${item('account', '/account', 'Account')}${item('plugins', '/plugins', 'Plugins')}${
      viewer.principal.roles.includes('admin') ? item('admin', '/admin', 'Admin') : ''
    }</nav>
<span class="who">${viewer.principal.username}</span>
<form method="post" action="/${API_PREFIX}/auth/logout" class="inline"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit" class="secondary small" id="logout">Log out</button></form>`
  : ''}</div></header>`;
  }
}
