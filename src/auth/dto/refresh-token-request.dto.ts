import { ApiProperty } from '../../common/http/api-docs';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class RefreshTokenRequestDto {
  @ApiProperty({ example: 'lk_rt_…' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  refresh_token: string;
}
