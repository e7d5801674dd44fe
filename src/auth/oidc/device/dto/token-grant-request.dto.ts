import { ValidationPipe } from '@nestjs/common';
import { ApiPropertyOptional, IntersectionType, OmitType, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { validationExceptionFactory } from '../../../../common/errors/validation';
import { TokenRequestDto } from '../../../dto/token-request.dto';
import { DEVICE_CODE_GRANT, DeviceTokenRequestDto } from './device-token-request.dto';

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

/** The global pipe's rules (app.module.ts), for a body checked a second time in a handler. */
const strict = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: validationExceptionFactory,
});

/** The body as one grant's DTO: 422 naming each bad field, exactly as if the route took that DTO. */
export function asGrant<T extends object>(dto: new () => T, body: TokenGrantRequestDto): Promise<T> {
  return strict.transform({ ...body }, { type: 'body', metatype: dto }) as Promise<T>;
}
