import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from '../users/user.entity';

export type SessionRevokedReason =
  | 'logout'
  | 'revoked'
  | 'refresh_reuse'
  | 'password_change'
  | 'revoke_all'
  /** The IdP session behind a browser session is over (silent re-authentication refused). */
  | 'idp_session_ended'
  /** An administrator revoked it. */
  | 'admin'
  /** A browser session unused for longer than BROWSER_SESSION_IDLE_TIMEOUT. */
  | 'idle_timeout';

/**
 * A login. An API login holds refresh tokens that rotate on every use (`RefreshToken`); a
 * browser login holds a session cookie instead (`cookieHash`). Either way the session has an
 * absolute lifetime (`SESSION_MAX_AGE`) that refreshing never extends. A login through an IdP
 * keeps the provider and, for browser sessions, its tokens (sealed) for silent refresh.
 */
@Entity('sessions')
export class Session {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Index('IDX_sessions_user_id')
  @Column({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** How the session was opened: `password` or `oidc` (then `idpProvider` names the IdP). */
  @Column({ name: 'auth_method', type: 'varchar', length: 32 })
  authMethod: string;

  /** The user's epoch when the session opened; a later revoke-all ends the session. */
  @Column({ name: 'user_epoch', type: 'integer' })
  userEpoch: number;

  @Column({ name: 'user_agent', type: 'varchar', length: 255, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  /** Absolute expiry: created + SESSION_MAX_AGE. */
  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;

  @Column({ name: 'last_refreshed_at', ...COLUMN.timestamp, nullable: true })
  lastRefreshedAt: Date | null;

  /**
   * Browser sessions: when the cookie was last used, written at most once a minute; a session
   * unused for BROWSER_SESSION_IDLE_TIMEOUT is refused and revoked. Null: not since login.
   */
  @Column({ name: 'last_seen_at', ...COLUMN.timestamp, nullable: true })
  lastSeenAt: Date | null;

  @Column({ name: 'refresh_count', type: 'integer', default: 0 })
  refreshCount: number;

  @Column({ name: 'revoked_at', ...COLUMN.timestamp, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason: SessionRevokedReason | null;

  /** Browser sessions: keyed hash of the `lk_session` cookie. Null for API sessions. */
  @Index('UQ_sessions_cookie_hash', { unique: true })
  @Column({ name: 'cookie_hash', type: 'varchar', length: 64, nullable: true, select: false })
  cookieHash: string | null;

  @Column({ name: 'idp_provider', type: 'varchar', length: 64, nullable: true })
  idpProvider: string | null;

  /** The IdP's access, refresh and ID tokens, sealed with a key derived from SECRET_KEYS. */
  @Column({ name: 'idp_tokens', type: 'text', nullable: true, select: false })
  idpTokens: string | null;

  /** When the IdP access token expires: past it, the browser session is refreshed at the IdP. */
  @Column({ name: 'idp_expires_at', ...COLUMN.timestamp, nullable: true })
  idpExpiresAt: Date | null;
}
