import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LatchkeyClient, LatchkeyHttpError } from './latchkey-client';

/** An event of Latchkey's revocation feed. */
type FeedEvent =
  | { kind: 'user'; sub: string; epoch: number; status: 'active' | 'disabled' | 'deleted'; roles: string[] }
  | { kind: 'session'; sid: string }
  | { kind: 'api_key'; key_id: string }
  | { kind: 'deploy_token'; token_id: string };

interface FeedPage {
  events: FeedEvent[];
  cursor: string;
  has_more: boolean;
}

/** The claims of a Latchkey access token this package checks against revocations. */
export interface RevocableClaims {
  sub: string;
  sid: string;
  epoch: number;
  roles: string[];
}

/** Revoked sessions are remembered this long (no access token lives longer in practice). */
const SESSION_MEMORY_MS = 24 * 3600_000;
const WAIT_SECONDS = 25;
const RETRY_MS = 1000;

/**
 * Follows Latchkey's revocation feed (long polls), so that an access token verified here by its
 * signature is refused within a second of a revocation at Latchkey, not at its `exp`: a user's
 * new epoch (revoke-all), status (disabled, deleted) and roles; revoked sessions; revoked API keys
 * and deploy tokens (cached introspection answers are dropped). At start it replays the feed's
 * whole history (at least one access-token lifetime), so tokens revoked before this service
 * started are refused too. A gap (410: the cursor outlived Latchkey's history, e.g. after a long
 * outage) drops every cached introspection answer and starts again from the history.
 */
@Injectable()
export class LatchkeyRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LatchkeyRevocations');
  private readonly epochs = new Map<string, number>();
  private readonly inactive = new Set<string>();
  private readonly roles = new Map<string, readonly string[]>();
  private readonly sessions = new Map<string, number>();
  private stopped = false;
  private abort?: AbortController;
  private loop?: Promise<void>;
  /** Resolves once the history has been read (tests and readiness checks wait on it). */
  private readyResolve!: () => void;
  readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve));

  constructor(private readonly client: LatchkeyClient) {}

  onApplicationBootstrap(): void {
    if (!this.client.apiKey) {
      this.logger.warn('no apiKey: revocations are not followed (revoked access tokens are accepted until they expire)');
      this.readyResolve();
      return;
    }
    this.loop = this.follow();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop?.catch(() => undefined);
  }

  /** Why these claims are revoked, or undefined when they are not. */
  refusal(claims: RevocableClaims): string | undefined {
    if (this.inactive.has(claims.sub)) return 'This account is disabled.';
    if (claims.epoch < (this.epochs.get(claims.sub) ?? 0)) return 'This token has been revoked.';
    const until = this.sessions.get(claims.sid);
    if (until !== undefined && until > Date.now()) return 'This token has been revoked.';
    return undefined;
  }

  /** The roles the user still holds among `roles` (a role taken away counts at once). */
  currentRoles(sub: string, roles: readonly string[]): readonly string[] {
    const now = this.roles.get(sub);
    return now ? roles.filter((r) => now.includes(r)) : roles;
  }

  private async follow(): Promise<void> {
    let cursor: string | undefined;
    while (!this.stopped) {
      try {
        // The history first: the cursor "0.<Latchkey's now>" asks for every event it still keeps.
        cursor ??= `0.${(await this.page(undefined, 0)).cursor.split('.')[1]}`;
        const wait = cursor.startsWith('0.') ? 0 : WAIT_SECONDS;
        const asked = Date.now();
        const page = await this.page(cursor, wait);
        for (const event of page.events) this.apply(event);
        cursor = page.cursor;
        if (!page.has_more) this.readyResolve();
        // An empty answer long before the wait was over (Latchkey shutting down): do not spin.
        if (wait > 0 && page.events.length === 0 && Date.now() - asked < 1000) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof LatchkeyHttpError && error.status === 410) {
          this.logger.warn('the revocation feed has a gap (410): cached introspection answers dropped, reading its history again');
          this.client.forgetIntrospections();
          cursor = undefined;
          continue;
        }
        this.logger.warn(`revocation feed: ${(error as Error).message}; retrying in ${RETRY_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private async page(since: string | undefined, wait: number): Promise<FeedPage> {
    const { revocation_feed_endpoint } = await this.client.metadata();
    const url = new URL(revocation_feed_endpoint);
    if (since) url.searchParams.set('since', since);
    if (wait) url.searchParams.set('wait', String(wait));
    this.abort = new AbortController();
    const timeout = AbortSignal.timeout((wait + 10) * 1000);
    return this.client.request<FeedPage>(url.toString(), {
      headers: { Authorization: `Apikey ${this.client.apiKey}` },
      signal: AbortSignal.any([this.abort.signal, timeout]),
    });
  }

  private apply(event: FeedEvent): void {
    switch (event.kind) {
      case 'user':
        this.epochs.set(event.sub, Math.max(event.epoch, this.epochs.get(event.sub) ?? 0));
        if (event.status === 'active') this.inactive.delete(event.sub);
        else this.inactive.add(event.sub);
        this.roles.set(event.sub, event.roles);
        this.client.forgetIntrospections();
        break;
      case 'session':
        this.sessions.set(event.sid, Date.now() + SESSION_MEMORY_MS);
        if (this.sessions.size > 100_000) for (const [sid, until] of this.sessions) if (until < Date.now()) this.sessions.delete(sid);
        break;
      case 'api_key':
      case 'deploy_token':
        this.client.forgetIntrospections();
        break;
    }
  }
}
