import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../../database/column-types';

/**
 * An IdP offline token Latchkey has accepted, under the keyed hash of its text (never the text):
 * whose it is and the user's epoch when it was first exchanged. A revoke-all bumps the epoch, so a
 * token first used before it is refused for good, even by a fresh exchange the IdP would allow.
 */
@Entity('offline_token_grants')
export class OfflineTokenGrant {
  /** HMAC-SHA-256 (TOKEN_PEPPER) of the offline token, hex. */
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Index('IDX_offline_token_grants_user_id')
  @Column({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ name: 'user_epoch', type: 'integer' })
  userEpoch: number;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;
}

/**
 * The last revoke-all of a user, as the offline tokens see it: an IdP token that says it was
 * issued before `notBefore` (its `iat`, or the `auth_time` of the access token the IdP gives for
 * it) is refused, even the first time Latchkey meets it.
 */
@Entity('offline_token_floors')
export class OfflineTokenFloor {
  @PrimaryColumn({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @Column({ name: 'not_before', ...COLUMN.timestamp })
  notBefore: Date;
}
