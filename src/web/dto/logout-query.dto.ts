import { ApiPropertyOptional } from '../../common/http/api-docs';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { LOCAL_PATH } from '../../common/http/local-path';

export class LogoutQueryDto {
  @ApiPropertyOptional({ enum: ['expired'], description: '`expired`: the IdP session ended (set by the silent-refresh path)' })
  @IsOptional()
  @IsIn(['expired'])
  reason?: 'expired';

  @ApiPropertyOptional({ description: 'The provider to offer logging in again with' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  provider?: string;

  @ApiPropertyOptional({ description: "The `state` of an RP-initiated logout, returned by the identity provider" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  state?: string;

  @ApiPropertyOptional({ description: 'Where to return after logging in again (a local path)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(LOCAL_PATH, { message: 'next must be a local path such as /account' })
  next?: string;
}
