import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { sessionIdOf, type UserPrincipal } from '../../../common/auth/principal';
import { safeEqual } from '../../../common/auth/token-format';
import { SealedBox } from '../../../common/crypto/sealed-box';
import { AppError } from '../../../common/errors/app-error';
import { API_PREFIX } from '../../../common/http/base-url';
import type { LatchkeyRequest, LatchkeyReply } from '../../../common/http/request-context';
import { AppConfig, InjectConfig } from '../../../config/app.config';
import { SessionsService } from '../../../sessions/sessions.service';
import type { Identity } from '../../../users/identity.entity';
import type { User } from '../../../users/user.entity';
import { assertCanLogIn, UsersService } from '../../../users/users.service';
import { BrowserSessionsService } from '../../browser-sessions/browser-sessions.service';
import { html } from '../../../common/html/html';
import { PagesService } from '../../../common/html/pages.service';
import { csrfField } from '../../../common/html/view-helpers';
import type { CompletedLogin } from './oidc-login.service';
import { OidcLoginService, providerPath } from './oidc-login.service';

/** A pending link lives 5 minutes from the IdP's answer to the confirm POST. */
const PENDING_LINK_TTL_MS = 5 * 60 * 1000;
/** The single-use nonce of the pending link (HttpOnly, SameSite=Strict, scoped to the provider's routes). */
export const LINK_NONCE_COOKIE = 'lk_link';

/** What the confirmation form carries, sealed (AES-256-GCM): the user cannot change a field of it. */
interface PendingLink {
  /** The Latchkey user and the browser session that started the link. */
  u: string;
  s: string;
  /** Provider name, issuer and subject of the IdP account (from the verified ID token). */
  p: string;
  i: string;
  sub: string;
  /** Matches the `lk_link` cookie, which the confirm clears: a pending link is confirmed once. */
  n: string;
  /** Expiry, ms since epoch. */
  e: number;
}

/**
 * Linking an IdP account to an existing Latchkey user: an explicit, interactive act in three
 * steps, each bound to the browser session that started it.
 * 1. `POST …/link` (browser session, CSRF-checked, recent login, write:account) redirects to the
 *    IdP with a login state of mode `link` carrying the user and the browser session.
 * 2. The IdP's callback in that mode links nothing: in the same browser session, for an IdP
 *    account linked to nobody, it shows a confirmation page naming the IdP account and the
 *    Latchkey user, whose form carries the pending link sealed (5 minutes, single use).
 * 3. `POST …/link/confirm` (same rules as 1) links it, and records `identity.linked`.
 * API keys, deploy tokens and access tokens cannot start or confirm it (BrowserFormGuard).
 */
@Injectable()
export class IdentityLinksService {
  private readonly box: SealedBox;
  private readonly secure: boolean;

  constructor(
    private readonly login: OidcLoginService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly pages: PagesService,
    private readonly browserSessions: BrowserSessionsService,
    @InjectConfig() config: AppConfig,
  ) {
    this.box = new SealedBox(config.auth.secretKeys, 'oidc-identity-link');
    this.secure = config.publicUrl?.startsWith('https:') ?? false;
  }

  /** Step 1: the IdP authorization URL of a link started by this browser session. */
  async start(req: LatchkeyRequest, provider: string, principal: UserPrincipal): Promise<string> {
    const sessionId = sessionIdOf(principal);
    if (principal.credential.type !== 'browser_session' || !sessionId) {
      throw new AppError('SESSION_REQUIRED', 'Linking an identity provider account needs a browser login (log in at /login).');
    }
    const user = await this.activeUser(principal.userId);
    // prompt=login: the IdP asks whom to log in, instead of silently reusing whatever account is logged in there.
    return this.login.start(req, provider, { mode: 'link', userId: user.id, sessionId }, { prompt: 'login' });
  }

  /** Step 2: the IdP's answer. Checks, then the confirmation page; links nothing. */
  async review({ client, claims, state }: CompletedLogin, req: LatchkeyRequest, res: LatchkeyReply): Promise<void> {
    const { name: provider, issuer, displayName } = client.config;
    const session = state.sessionId ? await this.sessions.findWithIdpTokens(state.sessionId) : null;
    const current = (await this.browserSessions.current(req))?.id;
    if (!state.userId || !session || !this.sessions.isLive(session) || session.userId !== state.userId || current !== session.id) {
      throw invalidLink('This link was started in another browser session, or that session has ended. Log in and start again from your account page.');
    }
    const user = await this.activeUser(state.userId);
    if (await this.users.findIdentity(issuer, claims.sub)) {
      throw new AppError('IDENTITY_ALREADY_LINKED', `This ${displayName} account is already linked to a Latchkey user; it can be linked to one only.`);
    }
    const nonce = randomBytes(24).toString('base64url');
    const pending: PendingLink = { u: user.id, s: session.id, p: provider, i: issuer, sub: claims.sub, n: nonce, e: Date.now() + PENDING_LINK_TTL_MS };
    res.setCookie(LINK_NONCE_COOKIE, nonce, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: providerPath(provider), maxAge: PENDING_LINK_TTL_MS / 1000 });
    const claim = (name: string) => (typeof claims[name] === 'string' ? (claims[name] as string).slice(0, 255) : undefined);
    const account = claim('preferred_username') ?? claim('email') ?? claims.sub;
    const facts: [string, string | undefined][] = [
      ['Identity provider', displayName],
      ['Username there', claim('preferred_username')],
      ['Name', claim('name')],
      ['Email', claim('email')],
      ['Subject (its account id)', claims.sub],
    ];
    this.pages.send(
      res,
      200,
      `Link your ${displayName} account?`,
      html`<p>Link the ${displayName} account <strong id="idp-account">${account}</strong> to the Latchkey user
<strong id="latchkey-user">${user.username}</strong>?</p>
<dl class="facts">${facts.filter(([, v]) => v).map(([k, v]) => html`<dt>${k}</dt><dd class="mono">${v}</dd>`)}</dl>
<p class="warn">Whoever can log in to this ${displayName} account will then be able to log in to Latchkey as ${user.username},
with all of its roles. Link only an account that is yours.</p>
<form method="post" action="/${API_PREFIX}/auth/provider/${provider}/link/confirm" id="confirm-link">${csrfField(req)}
<input type="hidden" name="link" value="${this.box.sealJson(pending)}">
<div class="actions"><button type="submit" id="confirm-link-submit">Link this account</button>
<a class="button secondary" href="/account" id="cancel-link">Cancel</a></div></form>`,
      { narrow: true },
    );
  }

  /** Step 3: the confirm POST links the identity (once), for this browser session only. */
  async confirm(req: LatchkeyRequest, res: LatchkeyReply, provider: string, principal: UserPrincipal, sealed: string): Promise<Identity> {
    const cookie = (req.cookies as Record<string, unknown> | undefined)?.[LINK_NONCE_COOKIE];
    res.clearCookie(LINK_NONCE_COOKIE, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: providerPath(provider) });
    const pending = this.box.openJson<PendingLink>(sealed);
    const valid =
      pending !== undefined &&
      typeof cookie === 'string' &&
      typeof pending.n === 'string' &&
      safeEqual(pending.n, cookie) &&
      pending.p === provider &&
      pending.u === principal.userId &&
      principal.credential.type === 'browser_session' &&
      pending.s === principal.credential.sessionId;
    if (!valid) {
      throw invalidLink('This link confirmation is not valid for this browser session, or was already used. Start again from your account page.');
    }
    if (pending.e < Date.now()) throw invalidLink('This link confirmation has expired. Start again from your account page.');
    return this.users.linkIdentity(principal.userId, pending.p, pending.i, pending.sub);
  }

  private async activeUser(userId: string): Promise<User> {
    const user = await this.users.getById(userId);
    if (user.status !== 'active') throw new AppError('AUTH_USER_INACTIVE', 'This account is disabled.');
    assertCanLogIn(user);
    return user;
  }
}

function invalidLink(message: string): AppError {
  return new AppError('IDENTITY_LINK_INVALID', message);
}
