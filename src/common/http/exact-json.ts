import type { Express, Response } from 'express';

/**
 * Every JSON answer is sent as exactly `Content-Type: application/json`, without Express's
 * `; charset=utf-8`: JSON has no charset parameter (RFC 8259 §11, always UTF-8), and the Tiled
 * Python client reads an error's `detail` only when the type is exactly `application/json`
 * (otherwise its users see a bare "401: Unauthorized"). Express 5 adds the charset in `res.set`
 * and to every string body in `res.send`; a Buffer sent with the header already set keeps it. Installed once on the app's response
 * prototype, so it costs nothing per request beyond what `res.json` did; Nest answers handler
 * results and exception filters through `res.json`, so this covers them all. A type set before
 * (`application/problem+json`, say) is kept.
 */
export function sendExactJsonContentType(app: Express): void {
  const response = app.response as Response;
  response.json = function json(this: Response, body?: unknown): Response {
    const text = JSON.stringify(body);
    // setHeader, not res.set/res.type: those add the charset back (mime-types' contentType()).
    if (!this.get('Content-Type')) this.setHeader('Content-Type', 'application/json');
    return this.send(Buffer.from(text ?? '', 'utf8'));
  };
}
