import { clientIp } from '../common/http/request-context';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, LessThan, Repository } from 'typeorm';
import { currentRequest } from '../common/http/request-scope';
import { AuditActorType, AuditDetails, AuditEvent } from './audit-event.entity';
import { AUDIT_EVENT_TYPES, AuditEventType } from './audit-event-types';

export interface AuditActor {
  type: AuditActorType;
  id?: string | null;
  label?: string | null;
}

export interface AuditRecord {
  subject?: { type: string; id?: string | null; label?: string | null };
  /** The user the event concerns (see `/users/me/audit`). */
  userId?: string | null;
  /** The plugin the event concerns (its maintainers see it). */
  pluginId?: string | null;
  /** Small facts (ids, names, counts, reasons): never a secret. */
  details?: AuditDetails;
  /** Who acted, when it is not the request's principal (e.g. the user a login is for). */
  actor?: AuditActor;
}

export interface AuditQuery {
  type?: string;
  actor?: string;
  subject?: string;
  userId?: string;
  /** Events a user took part in: about them, or done by them. */
  involving?: string;
  pluginId?: string;
  since?: Date;
  until?: Date;
  /** Id of the last event of the previous page (events come newest first). */
  cursor?: string;
  limit: number;
}

/** Shapes of secrets Latchkey issues or accepts: a bug would put one here, the log must not keep it. */
const SECRET_SHAPES = [/\blk_[a-z]+_\w{20,}/, /\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/, /\$argon2/];
const TYPES = new Set<string>(AUDIT_EVENT_TYPES);

/**
 * The append-only audit log. `record()` takes who acted, from where and the request id from the
 * current request (AsyncLocalStorage; CLI and jobs are the `system` actor) and writes one row.
 * A failure to write is logged, never thrown: an audit hiccup must not turn a revocation into an
 * error. Values shaped like secrets are replaced by `[redacted]` (and logged as the bug they are).
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  async record(type: AuditEventType, record: AuditRecord = {}): Promise<void> {
    if (!TYPES.has(type)) throw new Error(`unknown audit event type ${type}`);
    const req = currentRequest();
    const actor = record.actor ?? actorOf(req);
    const row: Partial<AuditEvent> = {
      occurredAt: new Date(),
      type,
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorLabel: this.clean(actor.label, 255),
      subjectType: record.subject?.type ?? null,
      subjectId: record.subject?.id ?? null,
      subjectLabel: this.clean(record.subject?.label, 255),
      userId: record.userId ?? null,
      pluginId: record.pluginId ?? null,
      ip: req ? (clientIp(req)?.slice(0, 64) ?? null) : null,
      userAgent: this.clean(headerOf(req, 'user-agent'), 255),
      requestId: req?.id ?? null,
      details: record.details ? this.cleanDetails(record.details) : null,
    };
    try {
      await this.events.insert(this.events.create(row));
    } catch (error) {
      this.logger.error(`audit event ${type} not written: ${(error as Error).message}`);
    }
  }

  /** Newest first, at most `limit`, with the cursor of the next page (undefined on the last). */
  async list(query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor?: string }> {
    const qb = this.events.createQueryBuilder('e').orderBy('e.id', 'DESC').take(query.limit + 1);
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.actor) qb.andWhere('(e.actor_id = :actor OR e.actor_label = :actor)', { actor: query.actor });
    if (query.subject) qb.andWhere('(e.subject_id = :subject OR e.subject_label = :subject)', { subject: query.subject });
    if (query.userId) qb.andWhere('e.user_id = :userId', { userId: query.userId });
    if (query.involving) {
      qb.andWhere(
        new Brackets((w) =>
          w.where('e.user_id = :me', { me: query.involving }).orWhere("(e.actor_type = 'user' AND e.actor_id = :me)", { me: query.involving }),
        ),
      );
    }
    if (query.pluginId) qb.andWhere('e.plugin_id = :pluginId', { pluginId: query.pluginId });
    if (query.since) qb.andWhere('e.occurred_at >= :since', { since: query.since });
    if (query.until) qb.andWhere('e.occurred_at < :until', { until: query.until });
    if (query.cursor) qb.andWhere('e.id < :cursor', { cursor: query.cursor });
    const rows = await qb.getMany();
    const more = rows.length > query.limit;
    const events = more ? rows.slice(0, query.limit) : rows;
    return { events, nextCursor: more ? String(events[events.length - 1].id) : undefined };
  }

  /** Deletes events older than `days`; returns how many. */
  async purgeOlderThan(days: number, now = new Date()): Promise<number> {
    const result = await this.events.delete({ occurredAt: LessThan(new Date(now.getTime() - days * 86_400_000)) });
    return result.affected ?? 0;
  }

  private clean(value: string | null | undefined, max: number): string | null {
    if (value === null || value === undefined) return null;
    return this.redact(value).slice(0, max);
  }

  private cleanDetails(details: AuditDetails): AuditDetails {
    const out: AuditDetails = {};
    for (const [key, value] of Object.entries(details)) {
      out[key] = typeof value === 'string' ? this.redact(value).slice(0, 500) : Array.isArray(value) ? value.map((v) => this.redact(String(v))) : value;
    }
    return out;
  }

  private redact(value: string): string {
    if (!SECRET_SHAPES.some((shape) => shape.test(value))) return value;
    this.logger.error('a value shaped like a secret was about to enter the audit log; redacted');
    return '[redacted]';
  }
}

function actorOf(req: ReturnType<typeof currentRequest>): AuditActor {
  if (!req) return { type: 'system', label: 'cli' };
  const p = req.principal;
  if (!p) return { type: 'anonymous' };
  if (p.kind === 'user') return { type: 'user', id: p.userId, label: p.username };
  return { type: 'plugin_token', id: p.tokenId, label: p.label };
}

function headerOf(req: ReturnType<typeof currentRequest>, name: string): string | undefined {
  const value = req?.headers[name];
  return typeof value === 'string' ? value : undefined;
}
