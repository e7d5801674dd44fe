import type { PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import type { ErrorCode } from '../errors/error-codes';
import { parseUuid } from '../uuid';

/**
 * Path id → normalised UUID. A malformed id gets the error the route gives an unknown one (a 404
 * on the admin routes: there is no such thing), or a 422 where Tiled answers that. `code` is
 * public so the OpenAPI document lists it among the route's errors.
 */
export class UuidParamPipe implements PipeTransform<unknown, string> {
  constructor(
    readonly code: ErrorCode,
    private readonly message: (raw: string) => string,
  ) {}

  transform(value: unknown): string {
    const id = parseUuid(value);
    if (!id) throw new AppError(this.code, this.message(String(value).slice(0, 64)));
    return id;
  }
}

/** 404 `code` for a malformed id, as for an unknown one. */
export const uuidOr404 = (code: 'USER_NOT_FOUND' | 'SESSION_NOT_FOUND' | 'API_KEY_NOT_FOUND' | 'PLUGIN_TOKEN_NOT_FOUND' | 'IDENTITY_NOT_FOUND', message: string) =>
  new UuidParamPipe(code, () => message);
