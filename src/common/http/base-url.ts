import proxyAddr from 'proxy-addr';
import type { FastifyRequest as Request } from 'fastify';
import type { TrustProxy } from '../../config/configuration';

/** Every API route lives under this prefix (the Tiled clients' `/api/v1`). */
export const API_PREFIX = 'api/v1';

/**
 * The absolute API base (`…/api/v1`) as the client sees it (Tiled contract §0): PUBLIC_URL when
 * configured; otherwise X-Forwarded-Proto/Host when the request came through a trusted proxy
 * (TRUST_PROXY, and the connection is from one of the proxies it names); otherwise the connection
 * scheme and Host header.
 */
export function apiBase(req: Request, publicUrl: string | undefined, trustProxy: TrustProxy): string {
  return `${origin(req, publicUrl, trustProxy)}/${API_PREFIX}`;
}

export function origin(req: Request, publicUrl: string | undefined, trustProxy: TrustProxy): string {
  if (publicUrl) return publicUrl;
  const proxied = trustProxy !== false && fromTrustedProxy(req, trustProxy);
  const fwdProto = proxied ? firstHeader(req.headers['x-forwarded-proto']) : undefined;
  const fwdHost = proxied ? firstHeader(req.headers['x-forwarded-host']) : undefined;
  const proto = fwdProto === 'https' || fwdProto === 'http' ? fwdProto : req.protocol;
  const host = sanitizeHost(fwdHost ?? req.headers.host) ?? 'localhost';
  return `${proto}://${host}`;
}

const compiled = new Map<string, (address: string, hop: number) => boolean>();

/** Whether the connection's peer is a proxy TRUST_PROXY names (proxy-addr's check, as Fastify compiles it; once per setting). */
function fromTrustedProxy(req: Request, trustProxy: string): boolean {
  let trust = compiled.get(trustProxy);
  if (!trust) compiled.set(trustProxy, (trust = proxyAddr.compile(trustProxy.split(',').map((s) => s.trim()))));
  const address = req.raw.socket?.remoteAddress;
  return address !== undefined && trust(address, 0);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}

/** Host header values go into links: accept only host[:port] characters. */
function sanitizeHost(host: string | undefined): string | undefined {
  return host && /^[A-Za-z0-9.\-[\]:]{1,255}$/.test(host) ? host : undefined;
}
