import type { FastifyInstance } from 'fastify';

const FASTIFY_JSON = 'application/json; charset=utf-8';

/**
 * Every JSON answer is sent as exactly `Content-Type: application/json`, without Fastify's
 * `; charset=utf-8`: JSON has no charset parameter (RFC 8259 §11, always UTF-8), and the Tiled
 * Python client reads an error's `detail` only when the type is exactly `application/json`
 * (otherwise its users see a bare "401: Unauthorized"). Fastify adds the charset to every JSON
 * type it serializes, even one set beforehand, so one `onSend` hook puts the bare type back; a
 * type set by a handler with a charset of its own, or another JSON type
 * (`application/problem+json`), is kept.
 */
export function sendExactJsonContentType(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (reply.getHeader('content-type') === FASTIFY_JSON) reply.header('content-type', 'application/json');
    done(null, payload);
  });
}
