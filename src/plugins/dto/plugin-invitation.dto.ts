import { ApiProperty } from '../../common/http/api-docs';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength } from 'class-validator';
import { USERNAME_PATTERN } from '../../users/users.service';
import type { PluginInvitation } from '../plugin-invitation.entity';

export class InviteMaintainerDto {
  @ApiProperty({ example: 'bob', description: 'The username to invite. Any well-formed name gets the same answer, whether or not a user has it.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsString()
  @MaxLength(64)
  @Matches(USERNAME_PATTERN, { message: 'username must be lower-case letters, digits, ".", "_" or "-" (at most 64)' })
  username: string;
}

export class PluginInvitationResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The package name' }) plugin: string;
  @ApiProperty() plugin_display_name: string;
  @ApiProperty({ description: 'The invited username, as typed by the maintainer' }) username: string;
  @ApiProperty({ nullable: true, type: String }) invited_by: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() expires_at: string;
}

export function toInvitationResponse(i: PluginInvitation): PluginInvitationResponse {
  return {
    id: i.id,
    plugin: i.plugin!.name,
    plugin_display_name: i.plugin!.displayName,
    username: i.username,
    invited_by: i.invitedBy?.username ?? null,
    created_at: i.createdAt.toISOString(),
    expires_at: i.expiresAt.toISOString(),
  };
}
