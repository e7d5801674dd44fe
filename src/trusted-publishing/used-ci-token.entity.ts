import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';

/**
 * A CI ID token already exchanged, by issuer and `jti`: each is accepted once. Kept until the
 * token itself expires (plus the clock skew), then deleted.
 */
@Entity('used_ci_tokens')
export class UsedCiToken {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  issuer: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  jti: string;

  @Index('IDX_used_ci_tokens_expires_at')
  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;
}
