import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsKnownRole } from '../../common/auth/role-validation';
import type { User } from '../../users/user.entity';
import { PageQueryDto } from './page.dto';

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'disabled'] })
  @IsOptional()
  @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';

  @ApiPropertyOptional({ description: 'Users holding this role' })
  @IsOptional()
  @IsKnownRole()
  role?: string;

  @ApiPropertyOptional({ enum: ['user', 'service'], description: 'People, or service principals' })
  @IsOptional()
  @IsIn(['user', 'service'])
  kind?: 'user' | 'service';

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the username, display name or email' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  name?: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'alice', description: '1–64 of a-z 0-9 . _ -, starting with a letter or digit (stored lower-case)' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username: string;

  @ApiPropertyOptional({ description: 'Omit for a user who logs in through an identity provider only' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ type: [String], default: ['user'], description: 'Including "admin" needs a recent login' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsKnownRole({ each: true })
  roles?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(128)
  display_name?: string;
}

export class SetRolesDto {
  @ApiProperty({ type: [String], description: 'The complete new list; adding "admin" needs a recent login' })
  @IsArray()
  @ArrayMaxSize(16)
  @IsKnownRole({ each: true })
  roles: string[];
}

export class SetGroupsDto {
  @ApiProperty({ type: [String], example: ['beamline-7', 'staff'], description: 'The complete new list (0-100 names of 1-128 characters, no commas)' })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(128, { each: true })
  groups: string[];
}

export class AdminUserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ['user', 'service'] }) kind: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) display_name: string | null;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ type: [String], description: 'Free-form group names (PUT …/groups, or an IdP groups claim)' }) groups: string[];
  @ApiProperty({ enum: ['active', 'disabled'] }) status: string;
  @ApiProperty({ description: 'Bumped by every revoke-all' }) epoch: number;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_login_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Latest login (password or IdP), session refresh or API key use' })
  last_activity: string | null;
}

export class AdminUserPage {
  @ApiProperty({ type: [AdminUserResponse] }) items: AdminUserResponse[];
  @ApiProperty() total: number;
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
}

export class DeletedUserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ type: [String], description: 'Plugins the user was the last maintainer of: nobody maintains them now' })
  orphaned_plugins: string[];
}

export function toAdminUserResponse(user: User, lastActivity: Date | null): AdminUserResponse {
  return {
    id: user.id,
    username: user.username,
    kind: user.kind,
    email: user.email,
    display_name: user.displayName,
    roles: user.roles,
    groups: user.groups ?? [],
    status: user.status,
    epoch: user.epoch,
    created_at: user.createdAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    last_activity: lastActivity?.toISOString() ?? null,
  };
}
