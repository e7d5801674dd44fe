import { ApiProperty } from '../../common/http/api-docs';
import type { User } from '../user.entity';

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) display_name: string | null;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ enum: ['active', 'disabled'] }) status: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_login_at: string | null;
}

export function toUserResponse(user: User): UserResponse {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    display_name: user.displayName,
    roles: user.roles,
    status: user.status,
    created_at: user.createdAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
  };
}
