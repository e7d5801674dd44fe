import { ApiPropertyOptional, IntersectionType, OmitType, PartialType } from '../../common/http/api-docs';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { createValidationPipe } from '../../common/errors/validation';
import { DEVICE_CODE_GRANT, DeviceTokenRequestDto } from '../oidc/device/dto/device-token-request.dto';
import { TokenRequestDto } from './token-request.dto';

/**
 * The body of `POST /auth/provider/{provider}/token`, one route for two grants: the password
 * grant of the internal provider (TokenRequestDto) and the device-code poll of an external one
 * (DeviceTokenRequestDto). The global pipe can check only one class per route, so it checks
 * this one: any field of either grant, none required, nothing else. The handler then checks the
 * body as the grant its provider takes, with `asGrant`.
 */
export class TokenGrantRequestDto extends IntersectionType(
  PartialType(OmitType(TokenRequestDto, ['grant_type'] as const)),
  PartialType(OmitType(DeviceTokenRequestDto, ['grant_type'] as const)),
) {
  @ApiPropertyOptional({ enum: ['password', DEVICE_CODE_GRANT] })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  grant_type?: string;
}

/** The global pipe's rules, for a body checked a second time in a handler. */
const strict = createValidationPipe();

/** The body as one grant's DTO: 422 naming each bad field, exactly as if the route took that DTO. */
export function asGrant<T extends object>(dto: new () => T, body: TokenGrantRequestDto): Promise<T> {
  return strict.transform({ ...body }, { type: 'body', metatype: dto }) as Promise<T>;
}
