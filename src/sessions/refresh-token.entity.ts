import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { Session } from './session.entity';

/**
 * One opaque refresh token (only its keyed hash is stored). Single use: `usedAt` is set when it
 * is exchanged, and `successor` keeps the token that replaced it, sealed, so that presenting it
 * again within REFRESH_REUSE_GRACE gets that same successor (a session has one live chain);
 * presenting it again after the grace window revokes the whole session.
 */
@Entity('refresh_tokens')
export class RefreshToken {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Index('IDX_refresh_tokens_session_id')
  @Column({ name: 'session_id', ...COLUMN.uuid })
  sessionId: string;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Session;

  @Index('UQ_refresh_tokens_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  /** Idle expiry: issued + REFRESH_TOKEN_MAX_AGE, never past the session's absolute expiry. */
  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;

  @Column({ name: 'used_at', ...COLUMN.timestamp, nullable: true })
  usedAt: Date | null;

  /**
   * Set when the token is exchanged: its successor refresh token, sealed (SealedBox, purpose
   * `refresh-token-successor`). Opened only within REFRESH_REUSE_GRACE of `usedAt`; the purge
   * clears it afterwards.
   */
  @Column({ type: 'text', nullable: true, select: false })
  successor: string | null;
}
