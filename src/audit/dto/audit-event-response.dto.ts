import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import type { AuditEvent } from '../audit-event.entity';

export class AuditRefResponse {
  @ApiProperty() type: string;
  @ApiPropertyOptional({ nullable: true }) id: string | null;
  @ApiPropertyOptional({ nullable: true }) label: string | null;
}

export class AuditEventResponse {
  @ApiProperty() id: string;
  @ApiProperty() occurred_at: string;
  @ApiProperty() type: string;
  @ApiProperty({ type: AuditRefResponse }) actor: AuditRefResponse;
  @ApiPropertyOptional({ type: AuditRefResponse, nullable: true }) subject: AuditRefResponse | null;
  @ApiPropertyOptional({ nullable: true }) user_id: string | null;
  @ApiPropertyOptional({ nullable: true }) plugin_id: string | null;
  @ApiPropertyOptional({ nullable: true }) ip: string | null;
  @ApiPropertyOptional({ nullable: true }) user_agent: string | null;
  @ApiPropertyOptional({ nullable: true }) request_id: string | null;
  @ApiPropertyOptional({ nullable: true, type: Object }) details: Record<string, unknown> | null;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEventResponse] }) events: AuditEventResponse[];
  @ApiPropertyOptional({ nullable: true, description: 'Pass as ?cursor= for the next (older) page; null on the last' })
  next_cursor: string | null;
}

export function toAuditPage(page: { events: AuditEvent[]; nextCursor?: string }): AuditPageResponse {
  return {
    events: page.events.map((e) => ({
      id: String(e.id),
      occurred_at: e.occurredAt.toISOString(),
      type: e.type,
      actor: { type: e.actorType, id: e.actorId, label: e.actorLabel },
      subject: e.subjectType ? { type: e.subjectType, id: e.subjectId, label: e.subjectLabel } : null,
      user_id: e.userId,
      plugin_id: e.pluginId,
      ip: e.ip,
      user_agent: e.userAgent,
      request_id: e.requestId,
      details: e.details,
    })),
    next_cursor: page.nextCursor ?? null,
  };
}
