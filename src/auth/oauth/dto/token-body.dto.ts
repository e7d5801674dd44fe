import { ApiProperty, ApiPropertyOptional } from '../../../common/http/api-docs';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_CREDENTIAL_LENGTH } from '../../../common/auth/credentials';

export const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token', 'api_key', 'deploy_token', 'idp_offline_token', 'idp_access_token'] as const;

/** The body of RFC 7009 revocation (§2.1) and RFC 7662 introspection (§2.1): form-encoded, or JSON. */
export class TokenBodyDto {
  @ApiProperty({
    description: 'The token: an access token (JWT), a refresh token (`lk_rt_…`), an API key (`lk_pat_…`), a deploy token (`lk_dpl_…`) or an IdP token',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CREDENTIAL_LENGTH)
  token: string;

  @ApiPropertyOptional({ enum: TOKEN_TYPE_HINTS, description: "A hint only: the token's own shape decides" })
  @IsOptional()
  @IsIn(TOKEN_TYPE_HINTS)
  token_type_hint?: string;
}
