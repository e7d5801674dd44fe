import { isUniqueViolation } from '../../../common/errors/database-errors';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { IsNull, LessThan, Repository } from 'typeorm';
import { hashSecret } from '../../../common/auth/token-format';
import { Clock } from '../../../common/clock';
import { SealedBox } from '../../../common/crypto/sealed-box';
import { AppError } from '../../../common/errors/app-error';
import { RateLimitStorage } from '../../../common/rate-limit/rate-limit.storage';
import { AppConfig, InjectConfig } from '../../../config/app.config';
import { ClientInfo, SessionsService } from '../../../sessions/sessions.service';
import type { User } from '../../../users/user.entity';
import type { TokenResponse } from '../../dto/token-response.dto';
import { providerPath } from '../login/oidc-login.service';
import { DeviceLogin } from './device-login.entity';
import { LoginAudit } from '../../login-audit';
import type { LatchkeyReply, LatchkeyRequest } from '../../../common/http/request-context';

/** How long a device-code login stays pending, and how long its approver cookie lasts (seconds). */
export const DEVICE_LOGIN_TTL = 900;
/** Seconds between two polls of the program. */
export const DEVICE_POLL_INTERVAL = 5;

/** Holds the identity an IdP just proved, from the login callback to the user-code form's post. */
const APPROVER_COOKIE = 'lk_device';
const HEX = /^[0-9a-f]+$/i;
/** Wrong user codes one IdP login may enter; after the last, its approver cookie is worthless. */
export const DEVICE_APPROVER_MAX_WRONG_CODES = 5;

/** Who approves a device-code login: the Latchkey user and the IdP subject of their login. */
export interface Approver {
  userId: string;
  subject: string;
  /** Random id of this IdP login's approval (in the sealed cookie): what wrong user codes are counted against. */
  id: string;
}

interface SealedApprover extends Approver {
  provider: string;
  /** ms since epoch */
  expiresAt: number;
}

/**
 * The Tiled-mediated device-code login through an external provider, what `tiled login` does for
 * a provider in mode `external` (contract §6.2):
 * 1. the program gets a device code (kept) and a user code (shown), and polls with the first;
 * 2. the person opens the authorization URL, logs in at the IdP (the usual code flow), and on the
 *    page the callback shows types the user code. Between the two, the identity the IdP proved
 *    waits in a sealed cookie of that browser (never in a URL), so only that browser can approve;
 * 3. the approval opens a session; the next poll collects its first token pair, once.
 * Only the device code's keyed hash is stored, and no refresh token waits in the database. An
 * expired login is deleted when met (or when a new one starts), ending the session an approval
 * opened if no poll collected it.
 */
@Injectable()
export class DeviceLoginsService {
  private readonly logger = new Logger(DeviceLoginsService.name);
  private readonly approverBox: SealedBox;
  private readonly secure: boolean;

  constructor(
    @InjectRepository(DeviceLogin) private readonly logins: Repository<DeviceLogin>,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    private readonly loginAudit: LoginAudit,
    private readonly counters: RateLimitStorage,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.approverBox = new SealedBox(config.auth.secretKeys, 'oidc-device-approver');
    this.secure = config.publicUrl?.startsWith('https:') ?? false;
  }

  /** A new pending login at `provider`: its device code (64 hex) and user code (8 upper-case hex). */
  async start(provider: string): Promise<{ deviceCode: string; userCode: string }> {
    const now = this.clock.now();
    for (const login of await this.logins.find({ where: { expiresAt: LessThan(now) } })) await this.discard(login);
    const deviceCode = randomBytes(32).toString('hex');
    for (let attempt = 0; ; attempt++) {
      const userCode = randomBytes(4).toString('hex').toUpperCase();
      try {
        await this.logins.insert({
          deviceCodeHash: this.hash(deviceCode),
          provider,
          userCode,
          createdAt: now,
          expiresAt: new Date(now.getTime() + DEVICE_LOGIN_TTL * 1000),
          sessionId: null,
          subject: null,
        });
      } catch (error) {
        // user_code is unique among pending logins; a collision (1 in 2^32 per login) draws again.
        if (attempt < 2 && isUniqueViolation(error)) continue;
        throw error;
      }
      this.logger.log(`device login started at ${provider}`);
      return { deviceCode, userCode };
    }
  }

  /**
   * Approves the pending login whose user code this is (case, dashes and spaces ignored) for
   * `user`: opens its session, to be collected by the next poll. USER_CODE_INVALID when no
   * pending login at `provider` has this code (unknown, expired, or already approved).
   */
  async approve(provider: string, typed: string, user: User, subject: string, client: ClientInfo): Promise<void> {
    const userCode = typed.toUpperCase().replace(/[-\s]/g, '');
    const login = /^[0-9A-F]{8}$/.test(userCode) ? await this.logins.findOne({ where: { userCode, provider } }) : null;
    if (login && this.expired(login)) await this.discard(login);
    if (!login || this.expired(login) || login.sessionId !== null) {
      this.logger.warn(`device login at ${provider}: unknown user code entered by user ${user.id} ip=${client.ip ?? '-'}`);
      throw invalidUserCode();
    }
    const session = await this.sessions.openDeferred(user, 'oidc', client, provider);
    const claimed = await this.logins.update({ deviceCodeHash: login.deviceCodeHash, sessionId: IsNull() }, { sessionId: session.id, subject });
    if (claimed.affected !== 1) {
      // Approved in another tab meanwhile: that approval stands, this session goes.
      await this.sessions.end(session.id, 'revoked');
      throw invalidUserCode();
    }
    this.logger.log(`device login at ${provider} approved by user ${user.id}: session ${session.id}`);
    await this.loginAudit.succeeded(user, session.id, provider, 'oidc-device');
  }

  /**
   * A poll of the program, answered as Tiled does: 401 "Invalid device code" (not hex), 404 (no
   * such pending login: unknown, expired or collected), 400 `{error: "authorization_pending"}`,
   * or the token response; the login is then deleted, so its tokens are handed out once.
   */
  async poll(provider: string, deviceCode: string): Promise<TokenResponse> {
    if (!HEX.test(deviceCode)) throw new AppError('DEVICE_CODE_INVALID', 'Invalid device code');
    const deviceCodeHash = this.hash(deviceCode.toLowerCase());
    const login = await this.logins.findOne({ where: { deviceCodeHash, provider } });
    if (login && this.expired(login)) await this.discard(login);
    if (!login || this.expired(login)) throw deviceCodeNotFound();
    if (login.sessionId === null) {
      throw new AppError('DEVICE_AUTHORIZATION_PENDING', 'Nobody has approved this login yet: keep polling.', {
        detail: { error: 'authorization_pending' },
      });
    }
    // Concurrent polls: only the one that deletes the row collects.
    const collected = await this.logins.delete({ deviceCodeHash });
    if (collected.affected !== 1) throw deviceCodeNotFound();
    const { session, tokens } = await this.sessions.issueFirst(login.sessionId);
    this.logger.log(`device login at ${provider} collected: session ${session.id}`);
    return { ...tokens, identity: { id: login.subject!, provider }, principal: session.userId.replace(/-/g, '') };
  }

  /** After the IdP login of an approval: sets the sealed approver cookie (HttpOnly, Lax, the provider's routes, 15 minutes). */
  rememberApprover(res: LatchkeyReply, provider: string, approver: Omit<Approver, 'id'>): void {
    const expiresAt = this.clock.now().getTime() + DEVICE_LOGIN_TTL * 1000;
    const id = randomBytes(16).toString('base64url');
    const sealed = this.approverBox.sealJson({ userId: approver.userId, subject: approver.subject, id, provider, expiresAt } satisfies SealedApprover);
    res.setCookie(APPROVER_COOKIE, sealed, { ...this.cookieOptions(provider), maxAge: DEVICE_LOGIN_TTL });
  }

  /** The approver this browser's cookie names for `provider`, if it is genuine and recent. */
  approverOf(req: LatchkeyRequest, provider: string): Approver | undefined {
    const raw = (req.cookies as Record<string, unknown> | undefined)?.[APPROVER_COOKIE];
    const sealed = typeof raw === 'string' ? this.approverBox.openJson<SealedApprover>(raw) : undefined;
    if (!sealed || sealed.provider !== provider || !(sealed.expiresAt > this.clock.now().getTime())) return undefined;
    if (typeof sealed.id !== 'string') return undefined; // sealed before approvals had an id
    return { userId: sealed.userId, subject: sealed.subject, id: sealed.id };
  }

  /**
   * Whether this approval has used up its wrong user codes. The count is kept server-side, keyed
   * by the approval's id (shared through Redis when configured), so replaying the cookie as it was
   * before the wrong guesses does not reset it; only a new IdP login (a new id) does.
   */
  async approverForgotten(approver: Approver): Promise<boolean> {
    return (await this.counters.remaining(`${this.wrongCodesKey(approver)}:block`)) > 0;
  }

  /** Counts a wrong user code against this approval; true when that was the last one allowed. */
  async wrongCode(approver: Approver): Promise<boolean> {
    const ttlMs = DEVICE_LOGIN_TTL * 1000;
    const { blocked } = await this.counters.hit(this.wrongCodesKey(approver), ttlMs, DEVICE_APPROVER_MAX_WRONG_CODES - 1, ttlMs);
    return blocked;
  }

  private wrongCodesKey(approver: Approver): string {
    return `device-approver:${hashSecret(this.config.auth.tokenPepper, `device-approver\0${approver.id}`).slice(0, 32)}`;
  }

  /** One approval per IdP login: the cookie goes once it has served. */
  forgetApprover(res: LatchkeyReply, provider: string): void {
    res.clearCookie(APPROVER_COOKIE, this.cookieOptions(provider));
  }

  private cookieOptions(provider: string) {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.secure, path: providerPath(provider) };
  }

  /** Deletes an expired pending login; a session approved but never collected ends with it. */
  private async discard(login: DeviceLogin): Promise<void> {
    const deleted = await this.logins.delete({ deviceCodeHash: login.deviceCodeHash });
    if (deleted.affected === 1 && login.sessionId !== null) await this.sessions.end(login.sessionId, 'revoked');
  }

  private expired(login: DeviceLogin): boolean {
    return login.expiresAt <= this.clock.now();
  }

  private hash(deviceCode: string): string {
    return hashSecret(this.config.auth.tokenPepper, deviceCode);
  }
}

function invalidUserCode(): AppError {
  return new AppError('USER_CODE_INVALID', 'This code is unknown or has expired. Check it, or start again in your terminal.');
}

function deviceCodeNotFound(): AppError {
  return new AppError('DEVICE_CODE_NOT_FOUND', 'No such device_code. The pending request may have expired.');
}
