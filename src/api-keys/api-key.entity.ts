import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { StoredCredential } from '../database/stored-credential';
import { User } from '../users/user.entity';

/** A personal API key. Only the keyed hash of its secret is stored. */
@Entity('api_keys')
@Index('UQ_api_keys_user_first_eight', ['userId', 'firstEight'], { unique: true })
export class ApiKey extends StoredCredential {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Column({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The first eight characters after the `lk_pat_` prefix: how an owner names a key. */
  @Column({ name: 'first_eight', type: 'varchar', length: 8 })
  firstEight: string;

  @Index('UQ_api_keys_secret_hash', { unique: true })
  @Column({ name: 'secret_hash', type: 'varchar', length: 64, select: false })
  secretHash: string;

  @Column({ type: 'varchar', length: 1023, nullable: true })
  note: string | null;

  /** As requested; `inherit` means "whatever the owner may do at the time of use". */
  @Column({ type: 'simple-json' })
  scopes: string[];

  /** Stored and returned for Tiled compatibility; Latchkey attaches no meaning to them yet. */
  @Column({ name: 'access_tags', type: 'simple-json', nullable: true })
  accessTags: string[] | null;

  /** The owner's epoch at creation: a later revoke-all kills the key. */
  @Column({ name: 'user_epoch', type: 'integer' })
  userEpoch: number;
}
