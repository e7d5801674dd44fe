import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';

export class SaveRoleDto {
  @ApiProperty({ type: [String], example: ['notes:read', 'notes:write'], description: '1-100 scope names (lower case; not the admin-only scopes)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  scopes: string[];

  @ApiPropertyOptional({ example: 'Edits notes in the notes service' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  description?: string;
}

export class RoleResponse {
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ description: 'user, admin and introspector are built in and cannot change' }) built_in: boolean;
}
