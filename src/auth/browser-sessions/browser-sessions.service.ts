import { Injectable, Logger } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SESSION_COOKIE } from '../../common/auth/credentials';
import type { UserPrincipal } from '../../common/auth/principal';
import { scopesForRoles } from '../../common/auth/scopes';
import { Clock } from '../../common/clock';
import { generateToken, hashSecret, isWellFormedToken } from '../../common/auth/token-format';
import { SealedBox } from '../../common/crypto/sealed-box';
import { CsrfTokens } from '../../common/http/csrf-tokens';
import { AppError, unauthorized } from '../../common/errors/app-error';
import { API_PREFIX, apiBase } from '../../common/http/base-url';
import { AppConfig, InjectConfig } from '../../config/app.config';
import type { Session, SessionRevokedReason } from '../../sessions/session.entity';
import { ClientInfo, SessionsService } from '../../sessions/sessions.service';
import type { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import type { RefreshResult } from '../oidc/oidc-client';
import { OidcProviders } from '../oidc/oidc-providers';
import type { LatchkeyReply, LatchkeyRequest } from '../../common/http/request-context';

/** The IdP tokens of a browser session, sealed at rest. */
interface IdpTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
}

/** Assumed IdP access-token lifetime when the token response does not say (seconds). */
const DEFAULT_IDP_TOKEN_TTL = 300;
/** A session's last use is written at most this often (ms), or a tenth of the idle timeout if shorter. */
const SEEN_INTERVAL_MS = 60_000;

/**
 * Browser sessions: a Session row with a cookie (`lk_session`: HttpOnly, SameSite=Lax, Secure
 * when PUBLIC_URL is https) instead of refresh tokens. For a login through an IdP the row keeps
 * the IdP's tokens, sealed (AES-256-GCM, key derived from SECRET_KEYS), and when the IdP access
 * token expires the next request refreshes it server-side first (single flight per session). If
 * the IdP refuses, the request fails with IDP_SESSION_EXPIRED: a page load is redirected to a
 * silent `prompt=none` login, an API call gets 401 JSON with the login URL.
 *
 * Idle timeout: a session whose cookie has not been used for BROWSER_SESSION_IDLE_TIMEOUT
 * (default REFRESH_TOKEN_MAX_AGE) is refused like an ended one (401 SESSION_EXPIRED; a page load
 * goes to the login page) and revoked (`idle_timeout`). Use slides it: the last use is written
 * to the row at most once a minute, so most requests cost no write.
 */
/** The cookie that carries an RP-initiated logout's `state` back to `/logout`. */
const LOGOUT_STATE_COOKIE = 'lk_logout';
const LOGOUT_STATE_TTL_MS = 10 * 60_000;

@Injectable()
export class BrowserSessionsService {
  private readonly logger = new Logger(BrowserSessionsService.name);
  private readonly box: SealedBox;
  private readonly pepper: Buffer;
  private readonly secure: boolean;
  private readonly refreshing = new Map<string, Promise<void>>();
  private readonly idleTimeoutMs: number;
  private readonly seenIntervalMs: number;

  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly providers: OidcProviders,
    private readonly csrf: CsrfTokens,
    @InjectConfig() private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.idleTimeoutMs = config.auth.browserSessionIdleTimeout * 1000;
    // The stored last use lags the real one by less than this: a session is refused after at
    // least idle timeout - interval (>= 90 % of the timeout) without use.
    this.seenIntervalMs = Math.min(SEEN_INTERVAL_MS, this.idleTimeoutMs / 10);
    this.box = new SealedBox(config.auth.secretKeys, 'browser-session-idp-tokens');
    this.pepper = config.auth.tokenPepper;
    this.secure = config.publicUrl?.startsWith('https:') ?? false;
  }

  /**
   * Opens a browser session for `user` and sets its cookie on `res`, with a new CSRF token bound
   * to it: a token from before the login (which an attacker may have planted) is void from now on.
   */
  async open(user: User, res: LatchkeyReply, client: ClientInfo, idp?: { provider: string; tokens: RefreshResult }): Promise<Session> {
    const secret = generateToken('browserSession');
    const session = await this.sessions.openBrowser(user, idp ? 'oidc' : 'password', client, {
      cookieHash: hashSecret(this.pepper, secret),
      idpProvider: idp?.provider ?? null,
      idpTokens: idp ? this.seal(idp.tokens) : null,
      idpExpiresAt: idp ? idpExpiry(idp.tokens) : null,
    });
    this.setCookie(res, secret, session.expiresAt);
    return session;
  }

  /**
   * Gives a live browser session a new cookie (after a password change): the old cookie stops
   * working at once. 401 when the session ended meanwhile.
   */
  async rotateCookie(sessionId: string, res: LatchkeyReply): Promise<void> {
    const secret = generateToken('browserSession');
    if (!(await this.sessions.replaceCookie(sessionId, hashSecret(this.pepper, secret)))) throw ended();
    const session = await this.sessions.findWithIdpTokens(sessionId);
    this.setCookie(res, secret, session!.expiresAt);
  }

  /** The live browser session the request's cookie names, if any (no IdP refresh); an idle one is revoked. */
  async current(req: LatchkeyRequest): Promise<Session | undefined> {
    const secret = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
    if (typeof secret !== 'string' || !isWellFormedToken(secret, 'browserSession')) return undefined;
    const session = await this.sessions.findBrowserSession(hashSecret(this.pepper, secret));
    return session && this.sessions.isLive(session) && !(await this.endIfIdle(session)) ? session : undefined;
  }

  /** The user behind a session cookie; refreshes the IdP tokens first when they have expired. */
  async authenticate(secret: string, req: LatchkeyRequest): Promise<UserPrincipal> {
    if (!isWellFormedToken(secret, 'browserSession')) throw ended();
    const session = await this.sessions.findBrowserSession(hashSecret(this.pepper, secret));
    if (!session || !this.sessions.isLive(session) || (await this.endIfIdle(session))) throw ended(session?.idpProvider ?? undefined, req);
    const pending = this.users.state(session.userId);
    const owner = pending instanceof Promise ? await pending : pending;
    if (!owner.exists || owner.epoch !== session.userEpoch) throw ended(session.idpProvider ?? undefined, req);
    if (owner.status !== 'active') throw unauthorized('AUTH_USER_INACTIVE', 'This account is disabled.');
    await this.markSeen(session);
    if (session.idpProvider && (!session.idpExpiresAt || session.idpExpiresAt.getTime() <= Date.now())) {
      await this.refreshIdp(session, req);
    }
    return {
      kind: 'user',
      userId: session.userId,
      username: owner.username,
      roles: owner.roles,
      groups: owner.groups,
      scopes: scopesForRoles(owner.roles),
      // The login time is the session's creation: an interactive IdP login always opens a new
      // session (finishBrowserLogin); a silent prompt=none renewal keeps the session and its time.
      credential: { type: 'browser_session', sessionId: session.id, authTime: Math.floor(session.createdAt.getTime() / 1000) },
    };
  }

  /** After a silent (`prompt=none`) login: the session goes on with the new IdP tokens. */
  async renew(session: Session, tokens: RefreshResult): Promise<void> {
    const previous = this.tokensOf(session);
    await this.sessions.updateIdpTokens(
      session.id,
      this.seal({ ...tokens, refreshToken: tokens.refreshToken ?? previous?.refreshToken, idToken: tokens.idToken ?? previous?.idToken }),
      idpExpiry(tokens),
    );
  }

  /** Ends the session and clears the cookie. */
  async end(session: Session, res: LatchkeyReply, reason: SessionRevokedReason): Promise<void> {
    await this.sessions.end(session.id, reason);
    this.clearCookie(res);
  }

  /**
   * True (and the session revoked) when the session has not been used for the idle timeout.
   * The last use is `lastSeenAt`, or the login for a session not seen since.
   */
  private async endIfIdle(session: Session): Promise<boolean> {
    const lastSeen = (session.lastSeenAt ?? session.createdAt).getTime();
    if (this.clock.now().getTime() - lastSeen <= this.idleTimeoutMs) return false;
    await this.sessions.end(session.id, 'idle_timeout');
    this.logger.log(`browser session ${session.id}: idle for longer than ${this.idleTimeoutMs / 1000} s, revoked`);
    return true;
  }

  /** Slides the idle timeout: writes the last use when the stored one is a minute (or seenIntervalMs) old. */
  private async markSeen(session: Session): Promise<void> {
    const now = this.clock.now();
    const lastSeen = (session.lastSeenAt ?? session.createdAt).getTime();
    if (now.getTime() - lastSeen >= this.seenIntervalMs) await this.sessions.markSeen(session.id, now);
  }

  /** Sets the session cookie and a CSRF token bound to it (a new cookie always gets a new token). */
  private setCookie(res: LatchkeyReply, secret: string, expires: Date): void {
    res.setCookie(SESSION_COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/', expires });
    this.csrf.issue(res, secret);
  }

  clearCookie(res: LatchkeyReply): void {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/' });
  }

  /**
   * The `state` of an RP-initiated logout (some IdPs return to the client only when one was
   * sent), kept in a short-lived cookie scoped to `/logout` so that page can tell the IdP's
   * genuine return from someone linking to `/logout?state=…`.
   */
  issueLogoutState(res: LatchkeyReply): string {
    const state = randomBytes(16).toString('base64url');
    res.setCookie(LOGOUT_STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/logout', maxAge: LOGOUT_STATE_TTL_MS / 1000 });
    return state;
  }

  /** Whether `/logout?state=…` is the IdP's return from the logout this browser started (single use). */
  returnedFromIdpLogout(req: LatchkeyRequest, res: LatchkeyReply, state: string | undefined): boolean {
    const expected: unknown = req.cookies?.[LOGOUT_STATE_COOKIE];
    if (typeof expected !== 'string') return false;
    res.clearCookie(LOGOUT_STATE_COOKIE, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/logout' });
    return typeof state === 'string' && state.length === expected.length && timingSafeEqual(Buffer.from(state), Buffer.from(expected));
  }

  /** The ID token the IdP last issued for this session (for id_token_hint). */
  idTokenOf(session: Session): string | undefined {
    return this.tokensOf(session)?.idToken;
  }

  private refreshIdp(session: Session, req: LatchkeyRequest): Promise<void> {
    let flight = this.refreshing.get(session.id);
    if (!flight) {
      flight = this.doRefresh(session, req).finally(() => this.refreshing.delete(session.id));
      this.refreshing.set(session.id, flight);
    }
    return flight;
  }

  private async doRefresh(stale: Session, req: LatchkeyRequest): Promise<void> {
    // Read again inside the flight: a request that read the row before an earlier flight stored
    // new tokens must not refresh a second time (or with a refresh token the IdP rotated away).
    const session = (await this.sessions.findWithIdpTokens(stale.id)) ?? stale;
    if (session.idpExpiresAt && session.idpExpiresAt.getTime() > Date.now()) return;
    const provider = session.idpProvider!;
    const client = this.providers.find(provider);
    const tokens = this.tokensOf(session);
    if (client && tokens?.refreshToken) {
      try {
        const result = await client.refresh(tokens.refreshToken);
        const renewed = { ...result, refreshToken: result.refreshToken ?? tokens.refreshToken, idToken: result.idToken ?? tokens.idToken };
        await this.sessions.updateIdpTokens(session.id, this.seal(renewed), idpExpiry(result));
        this.logger.log(`browser session ${session.id}: IdP tokens refreshed at ${provider}`);
        return;
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 401) throw error; // 503: IdP down
        // The refresh token is dead: forget it, so that the requests until the prompt=none round
        // trip (which brings new tokens, or ends the session) do not ask the IdP again.
        await this.sessions.replaceIdpTokens(session.id, this.seal({ ...tokens, refreshToken: undefined }));
      }
    }
    this.logger.log(`browser session ${session.id}: ${provider} refused the refresh; silent login next`);
    throw this.idpSessionExpired(provider, req);
  }

  private idpSessionExpired(provider: string, req: LatchkeyRequest): AppError {
    const next = req.method === 'GET' ? req.url : undefined;
    const query = next ? `?next=${encodeURIComponent(next)}` : '';
    const loginUrl = `${apiBase(req, this.config.publicUrl, this.config.trustProxy)}/auth/provider/${provider}/authorize${query}`;
    const message = 'Your session at the identity provider has ended. Log in again.';
    return new AppError('IDP_SESSION_EXPIRED', message, {
      detail: { message, login_url: loginUrl },
      headers: { 'WWW-Authenticate': 'Bearer' },
      browserRedirect: `/${API_PREFIX}/auth/provider/${provider}/authorize?prompt=none${next ? `&next=${encodeURIComponent(next)}` : ''}`,
    });
  }

  private tokensOf(session: Session): IdpTokens | undefined {
    return session.idpTokens ? this.box.openJson<IdpTokens>(session.idpTokens) : undefined;
  }

  private seal(tokens: RefreshResult): string {
    return this.box.sealJson({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, idToken: tokens.idToken } satisfies IdpTokens);
  }
}

/** When to refresh: a little before the IdP access token expires (5 s, or a tenth of a short lifetime). */
function idpExpiry(tokens: RefreshResult): Date {
  const lifetime = (tokens.expiresIn ?? DEFAULT_IDP_TOKEN_TTL) * 1000;
  return new Date(Date.now() + lifetime - Math.min(5_000, lifetime / 10));
}

/** The session is over (logged out, revoked, expired): a page load goes to the logout page. */
function ended(provider?: string, req?: LatchkeyRequest): AppError {
  const next = req?.method === 'GET' ? `&next=${encodeURIComponent(req.url)}` : '';
  return new AppError('SESSION_EXPIRED', 'Your session has ended. Log in again.', {
    headers: { 'WWW-Authenticate': 'Bearer' },
    browserRedirect: provider ? `/logout?reason=expired&provider=${encodeURIComponent(provider)}${next}` : undefined,
  });
}
