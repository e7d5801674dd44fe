import { ApiPropertyOptional } from '../../common/http/api-docs';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_EVENT_TYPES } from '../audit-event-types';

/** Filters and paging of the audit views (all optional; newest first). */
export class AuditQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_EVENT_TYPES })
  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES)
  type?: string;

  @ApiPropertyOptional({ description: 'Actor id (user or token id) or label (username, "Token …")' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  actor?: string;

  @ApiPropertyOptional({ description: 'Subject id or label' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  subject?: string;

  @ApiPropertyOptional({ description: 'ISO 8601; events at or after it' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  since?: Date;

  @ApiPropertyOptional({ description: 'ISO 8601; events before it' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  until?: Date;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/, { message: 'cursor must be the next_cursor of a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** Only the admin view filters by user. */
export class AdminAuditQueryDto extends AuditQueryDto {
  @ApiPropertyOptional({ description: 'Events concerning this user id' })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  user?: string;
}

const DEFAULT_LIMIT = 50;

/** The query as AuditService filters (the user filters are the caller's to add). */
export function toAuditFilters(q: AuditQueryDto) {
  return { type: q.type, actor: q.actor, subject: q.subject, since: q.since, until: q.until, cursor: q.cursor, limit: q.limit ?? DEFAULT_LIMIT };
}
