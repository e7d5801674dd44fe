import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { Equals, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** OAuth2 password grant, as a form (what Tiled clients send) or as JSON. */
export class TokenRequestDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  username: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  password: string;

  @ApiPropertyOptional({ enum: ['password'] })
  @IsOptional()
  @Equals('password', { message: 'grant_type must be "password"' })
  grant_type?: string;

  @ApiPropertyOptional({ description: 'Ignored (OAuth2 form compatibility).' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;

  @ApiPropertyOptional({ description: 'Ignored (OAuth2 form compatibility).' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_id?: string;

  @ApiPropertyOptional({ description: 'Ignored (OAuth2 form compatibility).' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  client_secret?: string;
}
