import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { AppConfig, InjectConfig } from '../config/app.config';
import { html, SafeHtml } from './html';

const STYLE = `
:root{color-scheme:light dark;--fg:#1d232b;--bg:#f6f7f9;--card:#fff;--muted:#5b6573;--accent:#2456d6;--warn:#8a4b00;--border:#d9dee5}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--bg:#14171c;--card:#1d2127;--muted:#9aa4b2;--accent:#7ea2ff;--warn:#ffb45e;--border:#323844}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:40rem;margin:3rem auto;padding:0 1rem}.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:1.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}p{margin:.6rem 0}.muted{color:var(--muted)}.warn{color:var(--warn);font-weight:600}
a{color:var(--accent)}textarea{width:100%;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace;padding:.6rem;border:1px solid var(--border);border-radius:6px;background:var(--bg);color:var(--fg);word-break:break-all}
.button,button{display:inline-block;font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
.button.secondary,button.secondary{background:transparent;color:var(--accent)}form{display:inline}code{font-family:ui-monospace,Menlo,Consolas,monospace}
`;

/**
 * Renders and sends Latchkey's own small pages: no external assets, no scripts, never cached,
 * never framed, no Referer leaving the page (a page may show a secret once).
 */
@Injectable()
export class PagesService {
  private readonly csp: string;

  constructor(@InjectConfig() config: AppConfig) {
    // A form that posts here may be redirected on to an IdP (RP-initiated logout): allow those origins.
    const idps = [...new Set(config.oidc.providers.map((p) => new URL(p.issuer).origin))].join(' ');
    this.csp = `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' ${idps}; base-uri 'none'; frame-ancestors 'none'`;
  }

  send(res: Response, status: number, title: string, body: SafeHtml): void {
    const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Latchkey</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main><div class="card"><h1>${title}</h1>${body}</div></main></body></html>`;
    res
      .status(status)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': this.csp,
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
      })
      .send(page.value);
  }

  /** A secret shown once: a read-only field, the warning, and what to do with it. */
  secretOnce(res: Response, title: string, secret: string, intro: SafeHtml, usage: SafeHtml): void {
    this.send(
      res,
      200,
      title,
      html`${intro}
<p><textarea id="secret" rows="3" readonly autofocus aria-label="${title}">${secret}</textarea></p>
<p class="warn">Copy it now: you will not see it again. Reloading this page does not show it again.</p>
${usage}`,
    );
  }

  error(res: Response, status: number, title: string, message: string, retry?: { href: string; label: string }): void {
    this.send(res, status, title, html`<p>${message}</p>${retry ? html`<p><a class="button" href="${retry.href}">${retry.label}</a></p>` : ''}`);
  }
}
