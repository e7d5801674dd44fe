import { ApiProperty } from '../../common/http/api-docs';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  current_password: string;

  @ApiProperty({ format: 'password', minLength: 8, maxLength: 1024 })
  @IsString()
  @MaxLength(1024)
  new_password: string;
}
