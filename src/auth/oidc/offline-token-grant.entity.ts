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

/**
 * The newest refresh token an IdP that rotates them returned for an offline token a user holds,
 * under the keyed hash of the token the user presents (which the IdP no longer accepts), sealed
 * (AES-256-GCM, SealedBox): every instance exchanges the newest one, so the user's token keeps
 * working for as long as the IdP grant lives. Deleted on revoke-all; pruned when unused for
 * 180 days (no IdP keeps an idle offline session that long by default).
 */
@Entity('offline_token_rotations')
export class OfflineTokenRotation {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  /** The IdP's newest refresh token, sealed; never in plain text. */
  @Column({ name: 'sealed_token', type: 'text' })
  sealedToken: string;

  @Index('IDX_offline_token_rotations_updated_at')
  @Column({ name: 'updated_at', ...COLUMN.timestamp })
  updatedAt: Date;
}

/** An exchange of one offline token in progress (PostgreSQL): taken by one instance until `expires_at`. */
@Entity('offline_token_leases')
export class OfflineTokenLease {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  /** A random id of the exchange that holds it (the release deletes only its own lease). */
  @Column({ type: 'varchar', length: 64 })
  holder: string;

  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;
}
