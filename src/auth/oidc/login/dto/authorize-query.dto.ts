import { ApiPropertyOptional } from '../../../../common/http/api-docs';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { LOCAL_PATH } from '../../../../common/http/local-path';

export class AuthorizeQueryDto {
  @ApiPropertyOptional({
    description: 'Browser login: the local path to return to, with a session cookie. Without it the login ends on a page showing a Latchkey refresh token once (API users).',
    example: '/account',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(LOCAL_PATH, { message: 'next must be a local path such as /account' })
  next?: string;

  @ApiPropertyOptional({ description: '`none`: renew the browser session silently (set by Latchkey itself when the IdP tokens expire).', enum: ['none'] })
  @IsOptional()
  @IsIn(['none'])
  prompt?: 'none';

  @ApiPropertyOptional({
    description: '`1`: the browser half of a device-code login (the `authorization_uri` of `POST …/authorize`): after the login, a page asks for the code the program shows.',
    enum: ['1'],
  })
  @IsOptional()
  @IsIn(['1'])
  device?: '1';

  @ApiPropertyOptional({ description: "Accepted for Tiled's web UI, which passes its current URL; not used." })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  state?: string;
}
