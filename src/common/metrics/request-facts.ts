import type { ServerResponse } from 'node:http';
import type { CredentialStrategies } from '../auth/credential-strategy';
import { extractCredential } from '../auth/credentials';
import type { Principal } from '../auth/principal';
import { routeOf, type LatchkeyRequest } from '../http/request-context';

/**
 * The credential kind a request is counted and logged under: the kind that authenticated it, or,
 * when authentication failed, the kind it presented (`invalid`: no strategy knows the shape, or
 * the header was malformed); `none` when it presented nothing or the route reads nothing.
 */
export type CredentialKind = 'access_token' | 'api_key' | 'deploy_token' | 'browser_session' | 'oidc' | 'idp_access_token' | 'none' | 'invalid';

const BY_STRATEGY: Readonly<Record<string, CredentialKind>> = {
  'access-token': 'access_token',
  'api-key': 'api_key',
  'plugin-token': 'deploy_token',
  'browser-session': 'browser_session',
  'oidc-offline-token': 'oidc',
  'oidc-access-token': 'idp_access_token',
};

/** Status logged and counted for a request whose client went away before the answer was complete (nginx's 499). */
export const CLIENT_CLOSED = 499;

/** What the logs and metrics keep about a finished request; computed once, kept on the request. */
export interface RequestFacts {
  /** The route pattern that matched (`/api/v1/api-keys/:id`), never the URL; `null` when none matched. */
  readonly route: string | null;
  readonly status: number;
  readonly credential: CredentialKind;
  /** User id, or deploy-token id; undefined when anonymous. */
  readonly principal?: string;
  /** The error code of an error answer (set by AllExceptionsFilter). */
  readonly errorCode?: string;
}

const FACTS = Symbol('requestFacts');

export function requestFacts(req: LatchkeyRequest, res: ServerResponse, strategies?: CredentialStrategies): RequestFacts {
  const kept = req as LatchkeyRequest & { [FACTS]?: RequestFacts };
  let facts = kept[FACTS];
  if (!facts) {
    facts = {
      route: routeOf(req),
      status: res.writableFinished || res.headersSent ? res.statusCode : CLIENT_CLOSED,
      credential: credentialKind(req, strategies),
      principal: principalId(req.principal),
      errorCode: req.errorCode,
    };
    kept[FACTS] = facts;
  }
  return facts;
}

function credentialKind(req: LatchkeyRequest, strategies?: CredentialStrategies): CredentialKind {
  const principal = req.principal;
  if (principal === null) return 'none';
  if (principal) return principal.kind === 'plugin_token' ? 'deploy_token' : principal.credential.type;
  // The guard did not finish: the credential was refused, or the request never reached a route.
  try {
    const presented = extractCredential(req);
    if (!presented) return 'none';
    const strategy = strategies?.find(presented);
    return (strategy && BY_STRATEGY[strategy.name]) ?? 'invalid';
  } catch {
    return 'invalid';
  }
}

function principalId(principal: Principal | null | undefined): string | undefined {
  if (!principal) return undefined;
  return principal.kind === 'user' ? principal.userId : principal.tokenId;
}
