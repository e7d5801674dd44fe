import { ApiProperty } from '../../common/http/api-docs';
import type { CredentialUse } from '../credential-use.entity';
import type { PendingUse } from '../credential-usage.recorder';

export class CredentialUseResponse {
  @ApiProperty({ format: 'date-time' }) used_at: string;
  @ApiProperty({ example: 'POST' }) method: string;
  @ApiProperty({ nullable: true, type: String, example: '/api/v1/plugins/:package/versions', description: 'The route pattern, never the URL' })
  route: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ example: 201, description: 'HTTP status of the answer; 499: the client closed the connection first' }) status: number;
}

/** The newest uses of one credential, newest first; at most `limit` (USAGE_LOG_SIZE). */
export class CredentialUsageResponse {
  @ApiProperty({ type: [CredentialUseResponse] }) uses: CredentialUseResponse[];
  @ApiProperty({ description: 'How many uses are kept per credential (USAGE_LOG_SIZE)' }) limit: number;
}

export function toCredentialUseResponse(use: CredentialUse | PendingUse): CredentialUseResponse {
  return { used_at: use.usedAt.toISOString(), method: use.method, route: use.route, ip: use.ip, status: use.status };
}
