import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PACKAGE_NAME, PACKAGE_NAME_MAX } from '../plugins.service';

export class CreatePluginDto {
  @ApiProperty({ example: 'fancy-plugin', description: 'Package name: lower-case letters and digits, single "-", "_" or "." between them' })
  @IsString()
  @MaxLength(PACKAGE_NAME_MAX)
  @Matches(PACKAGE_NAME, { message: 'name must be lower-case letters and digits, with single "-", "_" or "." between them (e.g. fancy-plugin)' })
  name: string;

  @ApiPropertyOptional({ example: 'FancyPlugin', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  display_name?: string;
}
