import { parse as parseQuery } from 'node:querystring';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './json-depth';
import type { LatchkeyRequest } from './request-context';

/** Most fields a form-encoded body may have (the rest is refused with 413, as body-parser's `parameterLimit`). */
export const MAX_FORM_PARAMETERS = 100;

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The bodies Latchkey reads, and nothing else (any other type with a body is a 415):
 * - JSON, at most `limit` bytes (after decoding), UTF-8 or UTF-16, refused from the raw text when
 *   nested deeper than MAX_JSON_DEPTH (before JSON.parse, so nothing downstream walks a deep
 *   value); an empty body is `{}`, and the top level must be an object or an array.
 * - form-encoded, flat (`a[b]=1` is the key `a[b]`), at most MAX_FORM_PARAMETERS fields.
 * - multipart, for uploads only (registered by the plugin upload route's module).
 * A `Content-Encoding` of gzip, deflate or br is decoded on the way in (the limit counts the
 * decoded bytes, so a small bomb is still refused); any other is a 415.
 */
export function installBodyParsers(fastify: FastifyInstance, limit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addHook('preParsing', (req, _reply, payload, done) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (!encoding || encoding === 'identity') return done(null, payload);
    const decoder = DECODERS[encoding];
    if (!decoder) return done(new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding.slice(0, 32)}" is not supported.`));
    // Fastify checks Content-Length against `receivedEncodedLength` when a hook sets it.
    const decoded = Object.assign(decoder(), { receivedEncodedLength: 0 });
    payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength += chunk.length));
    payload.on('error', (error) => decoded.destroy(error));
    done(null, payload.pipe(decoded) as unknown as typeof payload);
  });
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: limit }, (req, body, done) => {
    // Kept for a signature over the bytes (GitHub's secret-scanning reports): a reference, no copy.
    (req as LatchkeyRequest).rawBody = body as Buffer;
    try {
      const text = decode(req, body as Buffer, true);
      if (text.length === 0) return done(null, {});
      // Strict, as body-parser's default: the top level is an object or an array.
      const first = /\S/.exec(text)?.[0];
      if (first !== '{' && first !== '[') return done(malformedJson());
      if (jsonDeeperThan(text, MAX_JSON_DEPTH)) return done(new AppError('JSON_TOO_DEEP', `The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`));
      done(null, JSON.parse(text));
    } catch (error) {
      done(error instanceof AppError ? error : malformedJson());
    }
  });
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: limit }, (req, body, done) => {
    try {
      const form = parseQuery(decode(req, body as Buffer, false), '&', '=', { maxKeys: MAX_FORM_PARAMETERS + 1 });
      if (Object.keys(form).length > MAX_FORM_PARAMETERS) return done(new AppError('PAYLOAD_TOO_LARGE', 'The request body has too many parameters.'));
      done(null, form);
    } catch (error) {
      done(error as Error);
    }
  });
}

const malformedJson = () => new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');

/** The body as text in the charset its Content-Type names: UTF-8 unless said otherwise; JSON may also be UTF-16. */
function decode(req: FastifyRequest, body: Buffer, utf16: boolean): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (!charset || charset === 'utf-8' || charset === 'utf8') return body.toString('utf8');
  if (utf16 && (charset === 'utf-16' || charset === 'utf-16le' || charset === 'utf-16be')) return new TextDecoder(charset).decode(body);
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', `The request body charset "${charset.slice(0, 32)}" is not supported.`);
}
