import type { IncomingMessage } from 'node:http';
import { randomFromPool } from '../crypto/random-pool';

const INCOMING_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Every request's id (Fastify's `genReqId`, so it is `req.id` from the first hook on): a sane
 * incoming `X-Request-ID` is kept (so a proxy's id carries through), otherwise 16 random hex
 * chars. The `onRequest` hook of configureApp echoes it as `X-Request-ID` and, for Tiled clients,
 * `X-Tiled-Request-ID`, before anything can fail, so that body errors carry it too.
 */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomFromPool(8).toString('hex');
}
