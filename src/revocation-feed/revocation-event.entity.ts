import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';

/**
 * One revocation, as the feed publishes it (`GET /auth/revocations`). Append-only; ids grow in
 * commit order (inserts are serialised), which is what makes `id` a safe cursor; the purge
 * deletes rows older than the retention.
 */
@Entity('revocation_events')
export class RevocationEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Index('IDX_revocation_events_created_at')
  @Column({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  /** `user`, `session`, `api_key` or `deploy_token`. */
  @Column({ type: 'varchar', length: 16 })
  kind: string;

  /** The user, session, key or token id the event is about. */
  @Column({ type: 'varchar', length: 64 })
  subject: string;

  /** The rest of the event (epoch, status, roles, owner, plugin), JSON. */
  @Column({ type: 'text' })
  data: string;
}
