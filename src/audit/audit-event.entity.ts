import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import type { AuditEventType } from './audit-event-types';

/** Small facts about an event (ids, names, counts, reasons): never a secret. */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

/** Who did something: a user, a deploy token, nobody known (a failed login), or the system (CLI, jobs). */
/** `publisher`: a trusted publisher's CI job (the exchange that gave it a deploy token). */
export type AuditActorType = 'user' | 'plugin_token' | 'publisher' | 'anonymous' | 'system';

/**
 * One security event. Append-only: nothing updates a row; the retention job deletes old ones.
 * Never holds a secret or a hash of one (AuditService refuses token-shaped values).
 */
@Entity('audit_events')
@Index('IDX_audit_events_occurred_at', ['occurredAt'])
export class AuditEvent {
  /** Increasing: the cursor of `GET /admin/audit` pages. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'occurred_at', ...COLUMN.timestamp })
  occurredAt: Date;

  @Index('IDX_audit_events_type')
  @Column({ type: 'varchar', length: 64 })
  type: AuditEventType;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: AuditActorType;

  @Index('IDX_audit_events_actor_id')
  @Column({ name: 'actor_id', type: 'varchar', length: 64, nullable: true })
  actorId: string | null;

  /** Username, "Token <description>", "cli"… as it was at the time. */
  @Column({ name: 'actor_label', type: 'varchar', length: 255, nullable: true })
  actorLabel: string | null;

  /** What the event is about: `user`, `session`, `api_key`, `deploy_token`, `plugin`, `version`. */
  @Column({ name: 'subject_type', type: 'varchar', length: 32, nullable: true })
  subjectType: string | null;

  @Index('IDX_audit_events_subject_id')
  @Column({ name: 'subject_id', type: 'varchar', length: 64, nullable: true })
  subjectId: string | null;

  @Column({ name: 'subject_label', type: 'varchar', length: 255, nullable: true })
  subjectLabel: string | null;

  /** The user the event concerns (theirs to see at /users/me/audit). */
  @Index('IDX_audit_events_user_id')
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  /** The plugin the event concerns (its maintainers see it). */
  @Index('IDX_audit_events_plugin_id')
  @Column({ name: 'plugin_id', type: 'varchar', length: 36, nullable: true })
  pluginId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 255, nullable: true })
  userAgent: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ type: 'simple-json', nullable: true })
  details: AuditDetails | null;
}
