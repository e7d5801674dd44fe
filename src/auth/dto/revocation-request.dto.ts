import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** The token revocation request of RFC 7009 §2.1 (form-encoded, or JSON). */
export class RevocationRequestDto {
  @ApiProperty({ description: 'The token to revoke: a refresh token (`lk_rt_…`), an API key (`lk_pat_…`) or a deploy token (`lk_dpl_…`)' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  token: string;

  @ApiPropertyOptional({ enum: ['refresh_token', 'access_token', 'api_key', 'deploy_token'], description: 'A hint only: the token\'s own prefix decides' })
  @IsOptional()
  @IsIn(['refresh_token', 'access_token', 'api_key', 'deploy_token'])
  token_type_hint?: string;
}
