import { ApiProperty } from '../../common/http/api-docs';
import type { PluginWithMaintainers } from '../plugins.service';
import type { PluginVersion } from '../plugin-version.entity';

export class PluginResponse {
  @ApiProperty() name: string;
  @ApiProperty() display_name: string;
  @ApiProperty({ type: [String] }) maintainers: string[];
  @ApiProperty({ nullable: true, type: String }) created_by: string | null;
  @ApiProperty() created_at: string;
}

export class PluginVersionResponse {
  @ApiProperty() version: string;
  @ApiProperty() filename: string;
  @ApiProperty() size: number;
  @ApiProperty() sha256: string;
  @ApiProperty({ nullable: true, type: String }) notes: string | null;
  @ApiProperty({ description: 'A username, or "Token {description}" for a deploy token' }) uploaded_by: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) uploaded_by_token_id: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export function toPluginResponse({ plugin, maintainers }: PluginWithMaintainers): PluginResponse {
  return {
    name: plugin.name,
    display_name: plugin.displayName,
    maintainers: maintainers.map((u) => u.username),
    created_by: plugin.createdBy?.username ?? null,
    created_at: plugin.createdAt.toISOString(),
  };
}

export function toVersionResponse(v: PluginVersion): PluginVersionResponse {
  return {
    version: v.version,
    filename: v.filename,
    size: v.size,
    sha256: v.sha256,
    notes: v.notes,
    uploaded_by: v.uploadedBy,
    uploaded_by_token_id: v.uploadedByTokenId,
    created_at: v.createdAt.toISOString(),
    updated_at: v.updatedAt.toISOString(),
  };
}
