import { applyDecorators, Header, SetMetadata } from '@nestjs/common';

export const SENDS_SECRET = 'latchkey:sends-secret';

/**
 * This route's answer may carry a new secret (a refresh token, an API key, a deploy token or its
 * rotation, an IdP offline token, a device code): `Cache-Control: no-store`, so no browser, proxy
 * or client cache keeps a copy (RFC 6749 §5.1). Nest sets the header before the handler runs, so
 * it holds for handlers that answer through `@Res()` too (pages, redirects). Every route that
 * hands out a secret carries it; test/attacks/input-and-transport.e2e-spec.ts calls each one.
 */
export const SendsSecret = () => applyDecorators(SetMetadata(SENDS_SECRET, true), Header('Cache-Control', 'no-store'));
