import { ApiProperty } from '../../../../common/http/api-docs';
import { Equals, IsString, MaxLength } from 'class-validator';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The device-code poll of the Tiled client (contract §6.2): JSON `{device_code, grant_type}`, both required. */
export class DeviceTokenRequestDto {
  @ApiProperty({ description: 'The device_code of POST /auth/provider/{provider}/authorize (64 hex characters)' })
  @IsString()
  @MaxLength(256)
  device_code: string;

  @ApiProperty({ enum: [DEVICE_CODE_GRANT] })
  @IsString()
  @Equals(DEVICE_CODE_GRANT, { message: `grant_type must be "${DEVICE_CODE_GRANT}"` })
  grant_type: string;
}
