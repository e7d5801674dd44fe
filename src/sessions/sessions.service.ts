import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { RevocationFeed } from '../revocation-feed/revocation-feed.service';
import { Clock } from '../common/clock';
import { SealedBox } from '../common/crypto/sealed-box';
import { parseUuid } from '../common/uuid';
import { randomUUID } from 'node:crypto';
import { In, IsNull, MoreThan, MoreThanOrEqual, Repository } from 'typeorm';
import { AppConfig, InjectConfig } from '../config/app.config';
import { AppError, unauthorized } from '../common/errors/app-error';
import { credentialStatusCondition, type CredentialStatus } from '../common/auth/credential-status';
import { scopesForRoles } from '../common/auth/scopes';
import { generateToken, hashSecret, isWellFormedToken } from '../common/auth/token-format';
import { currentRequest } from '../common/http/request-scope';
import type { User } from '../users/user.entity';
import { assertCanLogIn, UsersService } from '../users/users.service';
import { AccessTokenService } from './access-token.service';
import { RefreshToken } from './refresh-token.entity';
import { RevokedSessions } from './revoked-sessions';
import { Session, SessionRevokedReason } from './session.entity';

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

/** Filters and paging of the administrators' session list. */
export interface SessionListQuery {
  userId?: string;
  status?: CredentialStatus;
  offset: number;
  limit: number;
}

export interface TokenPair {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  token_type: 'bearer';
}

const EXPIRED_MESSAGE = 'Session has expired. Please re-authenticate.';
/** How many consumed tokens a replay may walk to reach the chain's live token (each hop within the grace). */
const MAX_CHAIN_HOPS = 16;

/** What a consumed refresh token keeps, sealed: its successor, bound to the consumed row. */
interface SealedSuccessor {
  of: string;
  token: string;
}

/**
 * Sessions and their rotating refresh tokens.
 * - Every refresh consumes the presented token and issues a new one (rotation). A session has
 *   one live chain: at most one unused refresh token at any time.
 * - The consumed token keeps its successor, sealed (never in the clear), for REFRESH_REUSE_GRACE
 *   seconds: presenting the consumed token again within them (two tabs racing, a retried
 *   request) returns that same successor (or, if it has been used too, the chain's current
 *   token) with a fresh access token, never a new branch. Later, a replay is treated as theft
 *   and the whole session is revoked.
 * - A password change revokes the user's other sessions and replaces every refresh token of the
 *   current one with a new pair (`rotateAfterPasswordChange`).
 * - Idle limit: a refresh token lives REFRESH_TOKEN_MAX_AGE; absolute limit: the session lives
 *   SESSION_MAX_AGE from login, whatever the refreshes.
 * - Revoking a session also refuses its unexpired access tokens (`RevokedSessions`: here at
 *   once, with Redis on every instance), except when a session ends itself: logout, or revoking
 *   the very session the request is made with. Then, as in Tiled, the access token the client
 *   holds lives until it expires.
 */
@Injectable()
export class SessionsService implements OnModuleInit {
  private readonly logger = new Logger(SessionsService.name);
  private readonly box: SealedBox;

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @InjectRepository(RefreshToken) private readonly refreshTokens: Repository<RefreshToken>,
    private readonly accessTokens: AccessTokenService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
    private readonly revokedSessions: RevokedSessions,
    private readonly clock: Clock,
    private readonly feed: RevocationFeed,
  ) {
    this.box = new SealedBox(config.auth.secretKeys, 'refresh-token-successor');
  }

  /** These sessions' access tokens are refused from now: here, on every instance, and by services following the feed. */
  private async refuseAccessTokensOf(sessionIds: string[]): Promise<void> {
    await this.revokedSessions.add(sessionIds);
    await this.feed.record(...sessionIds.map((sid) => ({ kind: 'session' as const, sid })));
  }

  /** Revoke-all marks the user's live sessions revoked (the epoch bump has already ended them). */
  onModuleInit(): void {
    this.users.registerRevoker({ name: 'sessions', revokeAllOf: (userId) => this.revokeAllForUser(userId, 'revoke_all') });
  }

  /** Opens a session for an authenticated user and issues its first token pair. */
  async open(
    user: User,
    authMethod: string,
    client: ClientInfo,
    idpProvider: string | null = null,
  ): Promise<{ session: Session; tokens: TokenPair }> {
    const now = this.clock.now();
    const session = await this.insert(user, authMethod, client, now, { idpProvider });
    const tokens = await this.issue(session, user, now);
    return { session, tokens };
  }

  /**
   * Opens a session whose first token pair is issued later, by `issueFirst`: a device-code login
   * is approved in a browser but collected by a program minutes later, and its refresh token
   * must not wait in the database in the clear meanwhile.
   */
  openDeferred(user: User, authMethod: string, client: ClientInfo, idpProvider: string | null = null): Promise<Session> {
    return this.insert(user, authMethod, client, this.clock.now(), { idpProvider });
  }

  /**
   * The first token pair of a session opened with `openDeferred`. 401 when the session has
   * ended or its user is disabled or was logged out everywhere since, and for any other session:
   * a browser session, or one that already has a refresh token (later pairs come from `refresh`).
   */
  async issueFirst(sessionId: string): Promise<{ session: Session; tokens: TokenPair }> {
    const now = this.clock.now();
    const session = await this.sessions.createQueryBuilder('s').addSelect('s.cookieHash').where('s.id = :id', { id: sessionId }).getOne();
    if (!session || !this.isLive(session, now) || session.cookieHash !== null) throw expired();
    if (await this.refreshTokens.exists({ where: { sessionId } })) throw expired();
    const user = await this.users.findById(session.userId);
    if (!user || user.status !== 'active' || user.epoch !== session.userEpoch) throw expired();
    return { session, tokens: await this.issue(session, user, now) };
  }

  /**
   * Opens a browser session: no refresh token, the caller sets a cookie whose keyed hash is
   * `cookieHash`. For a login through an IdP, `idp` holds its tokens (already sealed).
   */
  openBrowser(
    user: User,
    authMethod: string,
    client: ClientInfo,
    browser: { cookieHash: string; idpProvider: string | null; idpTokens: string | null; idpExpiresAt: Date | null },
  ): Promise<Session> {
    return this.insert(user, authMethod, client, this.clock.now(), browser);
  }

  /** The browser session with this cookie hash, its sealed IdP tokens included (live or not). */
  findBrowserSession(cookieHash: string): Promise<Session | null> {
    return this.sessions
      .createQueryBuilder('s')
      .addSelect('s.idpTokens')
      .where('s.cookie_hash = :cookieHash', { cookieHash })
      .getOne();
  }

  /** A session by id with its sealed IdP tokens (for RP-initiated logout and silent login). */
  findWithIdpTokens(id: string): Promise<Session | null> {
    return this.sessions.createQueryBuilder('s').addSelect('s.idpTokens').where('s.id = :id', { id }).getOne();
  }

  /** Replaces the sealed IdP tokens and nothing else (not a refresh: no count, no expiry change). */
  async replaceIdpTokens(sessionId: string, idpTokens: string): Promise<void> {
    await this.sessions.update({ id: sessionId }, { idpTokens });
  }

  /** Stores refreshed IdP tokens of a live browser session; false when the session ended meanwhile. */
  async updateIdpTokens(sessionId: string, idpTokens: string, idpExpiresAt: Date): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ idpTokens, idpExpiresAt, lastRefreshedAt: now, refreshCount: () => 'refresh_count + 1' })
      .where('id = :id AND revoked_at IS NULL', { id: sessionId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** A browser session's new cookie (its keyed hash); false when the session ended meanwhile. */
  async replaceCookie(sessionId: string, cookieHash: string): Promise<boolean> {
    const result = await this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ cookieHash, lastSeenAt: this.clock.now() })
      .where('id = :id AND revoked_at IS NULL', { id: sessionId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Records that a browser session's cookie was used (the idle timeout counts from here). */
  async markSeen(sessionId: string, at: Date): Promise<void> {
    await this.sessions.createQueryBuilder().update(Session).set({ lastSeenAt: at }).where('id = :id AND revoked_at IS NULL', { id: sessionId }).execute();
  }

  /** Ends a session (idempotent). */
  async end(sessionId: string, reason: SessionRevokedReason): Promise<void> {
    await this.revoke(sessionId, reason);
  }

  isLive(session: Session, now = this.clock.now()): boolean {
    return session.revokedAt === null && session.expiresAt > now;
  }

  private async insert(
    user: User,
    authMethod: string,
    client: ClientInfo,
    now: Date,
    extra: Partial<Pick<Session, 'cookieHash' | 'idpProvider' | 'idpTokens' | 'idpExpiresAt'>>,
  ): Promise<Session> {
    // The last line of defence: whatever login path got here, a service principal gets no session.
    assertCanLogIn(user);
    const active = await this.sessions.count({
      where: { userId: user.id, revokedAt: IsNull(), expiresAt: MoreThan(now) },
    });
    if (active >= this.config.auth.maxSessionsPerUser) {
      throw new AppError(
        'SESSION_LIMIT_REACHED',
        `This account has ${active} active sessions, the most allowed (${this.config.auth.maxSessionsPerUser}). Log out elsewhere or revoke sessions first.`,
      );
    }
    const session = this.sessions.create({
      id: randomUUID(),
      userId: user.id,
      authMethod,
      userEpoch: user.epoch,
      userAgent: client.userAgent?.slice(0, 255) ?? null,
      ip: client.ip?.slice(0, 64) ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.auth.sessionMaxAge * 1000),
      lastRefreshedAt: null,
      lastSeenAt: null,
      refreshCount: 0,
      revokedAt: null,
      revokedReason: null,
      cookieHash: null,
      idpProvider: null,
      idpTokens: null,
      idpExpiresAt: null,
      ...extra,
    });
    await this.sessions.insert(session);
    const via = session.idpProvider ? ` provider=${session.idpProvider}` : '';
    this.logger.log(`session opened: ${session.id} user=${user.id} method=${authMethod}${via}${session.cookieHash ? ' (browser)' : ''}`);
    return session;
  }

  /**
   * Exchanges a refresh token for a new pair (rotation, one live chain, reuse detection,
   * idle/absolute limits).
   */
  async refresh(presented: string): Promise<TokenPair> {
    const row = await this.findToken(presented);
    const now = this.clock.now();
    const session = row?.session;
    if (!row || !session || !this.isLive(session, now) || row.expiresAt <= now) throw expired();

    if (row.usedAt === null) {
      const pair = await this.rotate(row, session, now);
      if (pair) return pair;
      // Another request consumed it between our read and our write: judge it as a replay.
      const again = await this.tokenById(row.id);
      if (!again?.usedAt) throw expired();
      row.usedAt = again.usedAt;
      row.successor = again.successor;
    }

    const sinceUse = now.getTime() - row.usedAt.getTime();
    if (sinceUse <= this.config.auth.refreshReuseGrace * 1000) return this.replay(row, session, now);

    await this.revoke(session.id, 'refresh_reuse');
    this.logger.warn(`refresh token reuse detected: session ${session.id} of user ${session.userId} revoked`);
    throw expired();
  }

  /**
   * After a password change: every other session of the user is revoked (their access tokens
   * refused at once), and the current one, `sessionId`, is rotated: its refresh tokens are
   * deleted (a copy held by anyone else, successor included, stops working) and, for an API
   * session, a new pair is returned. A browser session gets a new cookie from its caller.
   */
  async rotateAfterPasswordChange(userId: string, sessionId: string, api: boolean): Promise<TokenPair | undefined> {
    const revoked = await this.revokeAllForUser(userId, 'password_change', sessionId);
    const now = this.clock.now();
    const session = await this.sessions.findOne({ where: { id: sessionId, userId } });
    if (!session || !this.isLive(session, now)) throw expired();
    const user = await this.activeOwner(session);
    await this.refreshTokens.delete({ sessionId });
    const tokens = api ? await this.issue(session, user, now) : undefined;
    await this.audit.record('session.rotated', {
      subject: { type: 'session', id: sessionId },
      userId,
      details: { reason: 'password_change', other_sessions_revoked: revoked },
    });
    this.logger.log(`session rotated: ${sessionId} (password_change; ${revoked} other sessions revoked)`);
    return tokens;
  }

  /**
   * RFC 7662: what a refresh token is worth right now, without using it: its session and owner,
   * when it is unused, unexpired, its session live and its owner active at the session's epoch;
   * otherwise null (an unknown, malformed, used, expired or revoked token alike).
   */
  async introspectRefreshToken(presented: string): Promise<{ sessionId: string; user: User; issuedAt: Date; expiresAt: Date } | null> {
    if (!isWellFormedToken(presented, 'refreshToken')) return null;
    const row = await this.findToken(presented);
    const now = this.clock.now();
    const session = row?.session;
    if (!row || !session || row.usedAt !== null || row.expiresAt <= now || !this.isLive(session, now)) return null;
    const user = await this.activeOwner(session).catch(() => null);
    if (!user) return null;
    const expiresAt = row.expiresAt < session.expiresAt ? row.expiresAt : session.expiresAt;
    return { sessionId: session.id, user, issuedAt: row.createdAt, expiresAt };
  }

  /**
   * Revocation by a refresh token, current or rotated away: its holder (RFC 7009) or a leak report
   * (src/leaked-tokens). Its session ends and, unlike a Tiled logout, its access tokens are refused
   * too (§2.1: revoking a refresh token should end the grant's access tokens, and whoever revokes a
   * leaked token wants exactly that). Returns the session, or null for a value that is no refresh
   * token of ours (a look-alike costs no query).
   */
  async revokeIfRefreshToken(presented: string): Promise<{ session: Session; wasLive: boolean } | null> {
    if (!isWellFormedToken(presented, 'refreshToken')) return null;
    const row = await this.findToken(presented);
    if (!row?.session) return null;
    const session = row.session;
    const wasLive = !session.revokedAt && session.expiresAt > this.clock.now();
    if (!session.revokedAt) await this.revoke(session.id, 'revoked');
    return { session, wasLive };
  }

  /** Logout by refresh token. Idempotent for a known token; an unknown one is a 409 as in Tiled. */
  async revokeByRefreshToken(presented: string): Promise<void> {
    const row = await this.findToken(presented);
    if (!row?.session) {
      throw new AppError('SESSION_UNKNOWN', 'No session matches this refresh token.');
    }
    if (!row.session.revokedAt) await this.revoke(row.session.id, 'logout');
  }

  /** Revokes one of the user's own sessions by id; someone else's looks exactly like a missing one. */
  async revokeOwn(userId: string, sessionId: string): Promise<void> {
    const id = parseUuid(sessionId);
    const session = id ? await this.sessions.findOne({ where: { id, userId } }) : null;
    if (!session) throw new AppError('SESSION_NOT_FOUND', `No session ${sessionId.slice(0, 64)}`);
    if (!session.revokedAt) await this.revoke(session.id, 'revoked');
  }

  /** Revokes every live session of a user, except `keepSessionId` when given. Returns how many. */
  async revokeAllForUser(userId: string, reason: SessionRevokedReason, keepSessionId?: string): Promise<number> {
    const at = this.clock.now();
    const qb = this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: at, revokedReason: reason })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (keepSessionId) qb.andWhere('id <> :keep', { keep: keepSessionId });
    const result = await qb.execute();
    this.logger.log(`revoked ${result.affected ?? 0} sessions of user ${userId} (${reason})`);
    if (result.affected) {
      // The rows just revoked (and any revoked by a concurrent call with the same reason: harmless).
      const ended = await this.sessions.find({
        where: { userId, revokedReason: reason, revokedAt: MoreThanOrEqual(at) },
        select: { id: true },
      });
      await this.refuseAccessTokensOf(ended.map((s) => s.id));
    }
    return result.affected ?? 0;
  }

  listForUser(userId: string): Promise<Session[]> {
    return this.sessions.find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** The sessions of several users, newest first. */
  listForUsers(userIds: string[]): Promise<Session[]> {
    return userIds.length ? this.sessions.find({ where: { userId: In(userIds) }, order: { createdAt: 'DESC' } }) : Promise.resolve([]);
  }

  /**
   * One page of everyone's sessions (administrators), newest first. `browser` tells cookie
   * sessions from API sessions; the cookie's hash itself is not returned.
   */
  async listPage(query: SessionListQuery, now = new Date()): Promise<{ sessions: (Session & { browser: boolean })[]; total: number }> {
    const qb = this.sessions.createQueryBuilder('s').addSelect('s.cookieHash');
    if (query.userId) qb.andWhere('s.user_id = :userId', { userId: query.userId });
    if (query.status) qb.andWhere(...credentialStatusCondition('s', query.status, now));
    const [rows, total] = await qb.orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'ASC').skip(query.offset).take(query.limit).getManyAndCount();
    const sessions = rows.map(({ cookieHash, ...rest }) => Object.assign(rest as Session, { cookieHash: null, browser: cookieHash !== null }));
    return { sessions, total };
  }

  /** Any user's session by id (administrators; the caller validates the UUID); 404 when unknown, idempotent. */
  async revokeAnyById(sessionId: string): Promise<Session> {
    const session = await this.sessions.findOne({ where: { id: sessionId } });
    if (!session) throw new AppError('SESSION_NOT_FOUND', 'No such session.');
    if (!session.revokedAt) await this.revoke(session.id, 'admin');
    return session;
  }

  /**
   * Consumes `row` and issues its successor. The successor row is written first and the consumed
   * row then claimed together with the sealed successor, so a racing request that sees the
   * claim always finds the successor. Undefined when another request claimed `row` first (our
   * successor is deleted again: the session keeps one live chain).
   */
  private async rotate(row: RefreshToken, session: Session, now: Date): Promise<TokenPair | undefined> {
    const user = await this.activeOwner(session);
    const next = await this.insertToken(session, now);
    const claimed = await this.refreshTokens.update(
      { id: row.id, usedAt: IsNull() },
      { usedAt: now, successor: this.box.sealJson({ of: row.id, token: next.token } satisfies SealedSuccessor) },
    );
    if (claimed.affected !== 1) {
      await this.refreshTokens.delete({ id: next.id });
      return undefined;
    }
    await this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ lastRefreshedAt: now, refreshCount: () => 'refresh_count + 1' })
      .where('id = :id', { id: session.id })
      .execute();
    return this.pair(session, user, next.token, next.expiresAt, now);
  }

  /**
   * A consumed token presented again within the grace: the chain's live token (its successor,
   * or the successor's successor when that was used too, ...) with a fresh access token. No new
   * refresh token is ever minted here. 401 when the chain has no live token (rotated away by a
   * password change, expired, or the successor kept before this version).
   */
  private async replay(row: RefreshToken, session: Session, now: Date): Promise<TokenPair> {
    let current = row;
    for (let hop = 0; hop < MAX_CHAIN_HOPS; hop++) {
      const kept = current.successor ? this.box.openJson<SealedSuccessor>(current.successor) : undefined;
      if (!kept || kept.of !== current.id) break;
      const next = await this.findToken(kept.token);
      if (!next || next.sessionId !== session.id || next.expiresAt <= now) break;
      if (next.usedAt === null) return this.pair(session, await this.activeOwner(session), kept.token, next.expiresAt, now);
      current = next;
    }
    throw expired();
  }

  /** The session's user when still active and not logged out everywhere since the login; else 401. */
  private async activeOwner(session: Session): Promise<User> {
    const user = await this.users.findById(session.userId);
    if (!user || user.status !== 'active' || user.epoch !== session.userEpoch) throw expired();
    return user;
  }

  private async issue(session: Session, user: User, now: Date): Promise<TokenPair> {
    const next = await this.insertToken(session, now);
    return this.pair(session, user, next.token, next.expiresAt, now);
  }

  /** A new unused refresh token of the session (only its keyed hash is stored). */
  private async insertToken(session: Session, now: Date): Promise<{ id: string; token: string; expiresAt: Date }> {
    const token = generateToken('refreshToken');
    const idleExpiry = now.getTime() + this.config.auth.refreshTokenMaxAge * 1000;
    const expiresAt = new Date(Math.min(idleExpiry, session.expiresAt.getTime()));
    const id = randomUUID();
    await this.refreshTokens.insert({
      id,
      sessionId: session.id,
      tokenHash: hashSecret(this.config.auth.tokenPepper, token),
      createdAt: now,
      expiresAt,
      usedAt: null,
      successor: null,
    });
    return { id, token, expiresAt };
  }

  /** `refreshToken` with a fresh access token of the session. */
  private pair(session: Session, user: User, refreshToken: string, expiresAt: Date, now: Date): TokenPair {
    const accessToken = this.accessTokens.sign({
      sub: user.id,
      sid: session.id,
      preferred_username: user.username,
      roles: user.roles,
      groups: user.groups ?? [],
      scp: [...scopesForRoles(user.roles)],
      epoch: user.epoch,
      // The login that opened the session, kept by every refresh (RECENT_LOGIN_MAX_AGE checks it).
      auth_time: Math.floor(session.createdAt.getTime() / 1000),
    });
    return {
      access_token: accessToken,
      expires_in: this.accessTokens.lifetimeSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
      token_type: 'bearer',
    };
  }

  private async findToken(presented: string): Promise<RefreshToken | null> {
    if (typeof presented !== 'string' || !isWellFormedToken(presented, 'refreshToken')) {
      throw unauthorized('AUTH_INVALID_TOKEN', 'Could not validate credentials');
    }
    return this.refreshTokens
      .createQueryBuilder('r')
      .addSelect('r.successor')
      .leftJoinAndSelect('r.session', 'session')
      .where('r.token_hash = :hash', { hash: hashSecret(this.config.auth.tokenPepper, presented) })
      .getOne();
  }

  private tokenById(id: string): Promise<RefreshToken | null> {
    return this.refreshTokens.createQueryBuilder('r').addSelect('r.successor').where('r.id = :id', { id }).getOne();
  }

  private async revoke(sessionId: string, reason: SessionRevokedReason): Promise<void> {
    const result = await this.sessions.update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: this.clock.now(), revokedReason: reason });
    this.logger.log(`session revoked: ${sessionId} (${reason})`);
    if (!result.affected) return;
    if (!endsItself(sessionId, reason)) await this.refuseAccessTokensOf([sessionId]);
    const session = await this.sessions.findOne({ where: { id: sessionId }, select: { id: true, userId: true } });
    // A logout (or RFC 7009 revocation) by refresh token comes with no other credential: the actor
    // is the session's own user, who alone held that token. (Outside a request, e.g. the operator
    // CLI, the actor stays the system.)
    const request = currentRequest();
    const byHolder = (reason === 'logout' || reason === 'revoked') && request && !request.principal && session;
    const holder = byHolder ? await this.users.findById(session.userId) : null;
    await this.audit.record(reason === 'refresh_reuse' ? 'session.refresh_reuse' : 'session.revoked', {
      subject: { type: 'session', id: sessionId },
      userId: session?.userId,
      details: { reason },
      ...(holder ? { actor: { type: 'user' as const, id: holder.id, label: holder.username } } : {}),
    });
  }
}

/**
 * Logout, or revoking the session the request itself is made with: the caller holds that
 * session's access token and Tiled clients go on using it (Tiled's tests expect it to live until
 * it expires), so it is not refused. Any other revocation refuses the session's access tokens.
 */
function endsItself(sessionId: string, reason: SessionRevokedReason): boolean {
  if (reason === 'logout') return true;
  const credential = currentRequest()?.principal;
  return credential?.kind === 'user' && credential.credential.type === 'access_token' && credential.credential.sessionId === sessionId;
}

function expired(): AppError {
  return unauthorized('SESSION_EXPIRED', EXPIRED_MESSAGE);
}
