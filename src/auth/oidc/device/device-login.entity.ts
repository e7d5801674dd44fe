import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../../../database/column-types';
import { Session } from '../../../sessions/session.entity';

/**
 * A pending device-code login (Tiled contract §6.2; Tiled's `pending_sessions`). A program (the
 * Tiled CLI) starts it and polls with the device code, of which only the keyed hash is stored; a
 * person approves it in a browser with the user code after logging in at the IdP, which attaches
 * a session and the IdP subject. The program then collects that session's first token pair,
 * once: the row is deleted. It lives 15 minutes at most; expired rows are deleted when met.
 */
@Entity('device_logins')
export class DeviceLogin {
  /** Keyed hash (HMAC-SHA-256 with TOKEN_PEPPER) of the device code. */
  @PrimaryColumn({ name: 'device_code_hash', type: 'varchar', length: 64 })
  deviceCodeHash: string;

  /** The external provider the login goes through: polls and approvals elsewhere do not match. */
  @Column({ type: 'varchar', length: 64 })
  provider: string;

  /** 8 upper-case hex characters (shown as XXXX-XXXX), what the person types. */
  @Index('UQ_device_logins_user_code', { unique: true })
  @Column({ name: 'user_code', type: 'varchar', length: 8 })
  userCode: string;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Index('IDX_device_logins_expires_at')
  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;

  /** Set on approval: the session the program collects (its token pair is minted at collection). */
  @Column({ name: 'session_id', ...COLUMN.uuid, nullable: true })
  sessionId: string | null;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Session;

  /** Set on approval: the IdP subject that approved, the `identity.id` of the token response. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  subject: string | null;
}
