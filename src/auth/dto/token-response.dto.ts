import { ApiProperty } from '../../common/http/api-docs';

export class RefreshResponse {
  @ApiProperty() access_token: string;
  @ApiProperty({ description: 'Seconds' }) expires_in: number;
  @ApiProperty() refresh_token: string;
  @ApiProperty({ description: 'Seconds' }) refresh_token_expires_in: number;
  @ApiProperty({ enum: ['bearer'] }) token_type: 'bearer';
}

export class IdentityRef {
  @ApiProperty() id: string;
  @ApiProperty() provider: string;
}

export class TokenResponse extends RefreshResponse {
  @ApiProperty({ type: IdentityRef }) identity: IdentityRef;
  @ApiProperty({ description: 'Principal UUID as 32 hex characters' }) principal: string;
}
