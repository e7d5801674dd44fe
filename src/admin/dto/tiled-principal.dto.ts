import { ApiPropertyOptional } from '../../common/http/api-docs';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsKnownRole } from '../../common/auth/role-validation';

const TILED_DEFAULT_LIMIT = 100;
const TILED_MAX_LIMIT = 300;

/**
 * Tiled reads `page[offset]`/`page[limit]`; its Python client sends `offset`/`limit` (which Tiled
 * ignores). Both are read here; `page[…]` wins when both are given. Limit 0–300, default 100.
 */
export class ListPrincipalsQueryDto {
  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  'page[offset]'?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: TILED_MAX_LIMIT, default: TILED_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(TILED_MAX_LIMIT)
  'page[limit]'?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'Same as page[offset] (what the Tiled Python client sends)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: TILED_MAX_LIMIT, description: 'Same as page[limit]' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(TILED_MAX_LIMIT)
  limit?: number;
}

export function principalPage(q: ListPrincipalsQueryDto): { offset: number; limit: number } {
  return { offset: q['page[offset]'] ?? q.offset ?? 0, limit: q['page[limit]'] ?? q.limit ?? TILED_DEFAULT_LIMIT };
}

export class CreatePrincipalQueryDto {
  @ApiPropertyOptional({ required: true, description: 'The role of the new service principal (built in: user, admin, introspector; or a custom role); "admin" needs a recent login' })
  @IsKnownRole()
  role: string;
}
