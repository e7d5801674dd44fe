import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from '../users/user.entity';

export type SessionRevokedReason = 'logout' | 'revoked' | 'refresh_reuse' | 'password_change' | 'revoke_all';

/**
 * A login. Its refresh tokens rotate on every use (`RefreshToken`); the session itself has an
 * absolute lifetime (`SESSION_MAX_AGE`) that refreshing never extends.
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

  /** How the session was opened: `password`, later `oidc:<provider>`. */
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

  @Column({ name: 'refresh_count', type: 'integer', default: 0 })
  refreshCount: number;

  @Column({ name: 'revoked_at', ...COLUMN.timestamp, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason: SessionRevokedReason | null;
}
