import type { NextFunction, Response } from 'express';
import { randomFromPool } from '../crypto/random-pool';
import type { LatchkeyRequest } from './request-context';

const INCOMING_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id: a sane incoming `X-Request-ID` is kept (so a proxy's id carries
 * through), otherwise 16 random hex chars. Echoed as `X-Request-ID` and, for Tiled clients,
 * `X-Tiled-Request-ID`. Plain Express middleware, installed before the body parsers so that
 * their errors (malformed JSON, oversize bodies) carry the id too.
 */
export function requestId(req: LatchkeyRequest, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  req.id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomFromPool(8).toString('hex');
  res.setHeader('X-Request-ID', req.id);
  res.setHeader('X-Tiled-Request-ID', req.id);
  next();
}
