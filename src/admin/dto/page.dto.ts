import { ApiPropertyOptional } from '../../common/http/api-docs';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

/** `?offset=&limit=` of the admin listings (each answers `{items, total, offset, limit}`). */
export class PageQueryDto {
  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;

  @ApiPropertyOptional({ default: DEFAULT_PAGE_LIMIT, minimum: 1, maximum: MAX_PAGE_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit?: number;
}

export function pageOf(q: PageQueryDto): { offset: number; limit: number } {
  return { offset: q.offset ?? 0, limit: q.limit ?? DEFAULT_PAGE_LIMIT };
}
