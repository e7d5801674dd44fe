import { ApiProperty } from '../../common/http/api-docs';
import type { RevokeAllResult } from '../../users/users.service';

/** The answer of `POST /users/me/revoke-all` and `POST /admin/users/{id}/revoke-all`. */
export class RevokeAllResponse {
  @ApiProperty({ description: "The user's new epoch" }) epoch: number;
  @ApiProperty() sessions_revoked: number;
  @ApiProperty() api_keys_revoked: number;
}

export function toRevokeAllResponse(result: RevokeAllResult): RevokeAllResponse {
  return { epoch: result.epoch, sessions_revoked: result.revoked.sessions ?? 0, api_keys_revoked: result.revoked.api_keys ?? 0 };
}
