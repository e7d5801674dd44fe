import { ApiProperty } from '../../../../common/http/api-docs';

/** The answer to `POST /auth/provider/{provider}/authorize` (Tiled contract §6.2). */
export class DeviceAuthorizationResponse {
  @ApiProperty({ description: 'Open in a browser: log in at the identity provider, then enter user_code' })
  authorization_uri: string;

  @ApiProperty({ description: 'Poll here (POST, JSON {device_code, grant_type}) every `interval` seconds' })
  verification_uri: string;

  @ApiProperty({ description: 'Seconds between polls' })
  interval: number;

  @ApiProperty({ description: '64 hex characters, shown once; the program keeps it secret' })
  device_code: string;

  @ApiProperty({ description: 'Seconds the login stays pending' })
  expires_in: number;

  @ApiProperty({ example: 'A1B2-C3D4', description: 'What the person types in the browser' })
  user_code: string;
}
