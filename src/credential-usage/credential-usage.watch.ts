import type { ServerResponse } from 'node:http';
import type { Principal } from '../common/auth/principal';
import type { AnsweredCallback } from '../common/http/answered';
import { clientIp, routeOf, type LatchkeyRequest } from '../common/http/request-context';
import type { UsageCredentialRef } from './credential-use.entity';
import type { CredentialUsageRecorder, PendingUse } from './credential-usage.recorder';

/** Status recorded when the client closed the connection before the answer was complete (nginx's 499). */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * Logs each request authenticated by an API key or a deploy token, once it is answered
 * (`AnsweredRequests`), so every outcome counts, including a 403 from the authorization guard
 * and a 4xx or 5xx from the handler. The credential is the principal the authentication guard
 * resolved; no strategy or feature module knows about the log. For a logged credential it costs
 * one array push; nothing is awaited.
 */
export function recordUses(recorder: CredentialUsageRecorder): AnsweredCallback {
  return (req, res) => {
    const credential = loggedCredential(req.principal);
    if (credential) recorder.record(useOf(credential, req, res));
  };
}

/** The API key or deploy token behind a principal; null for every other credential kind. */
export function loggedCredential(principal: Principal | null | undefined): UsageCredentialRef | null {
  if (!principal) return null;
  if (principal.kind === 'plugin_token') return { type: 'deploy_token', id: principal.tokenId };
  return principal.credential.type === 'api_key' ? { type: 'api_key', id: principal.credential.id } : null;
}

/**
 * What is kept of a request: the route *pattern* that matched (never the URL, which may
 * carry `?api_key=`), the method, the client IP and the status. No header, query or body.
 */
export function useOf(credential: UsageCredentialRef, req: LatchkeyRequest, res: ServerResponse): PendingUse {
  const route = routeOf(req);
  return {
    credential,
    usedAt: new Date(),
    method: req.method.slice(0, 16),
    route: route?.slice(0, 255) ?? null,
    ip: clientIp(req)?.slice(0, 64) ?? null,
    status: res.writableFinished ? res.statusCode : CLIENT_CLOSED_REQUEST,
  };
}
