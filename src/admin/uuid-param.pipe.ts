import type { PipeTransform } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';

/** A hyphenated or 32-hex UUID, lower-cased and hyphenated; undefined for anything else. */
export function parseUuid(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 36) return undefined;
  const hex = raw.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Path id → normalised UUID. A malformed id gets the error the route gives an unknown one (a 404
 * on the admin routes: there is no such thing), or a 422 where Tiled answers that.
 */
export class UuidParamPipe implements PipeTransform<unknown, string> {
  constructor(private readonly invalid: (raw: string) => AppError) {}

  transform(value: unknown): string {
    const id = parseUuid(value);
    if (!id) throw this.invalid(String(value).slice(0, 64));
    return id;
  }
}

/** 404 `code` for a malformed id, as for an unknown one. */
export const uuidOr404 = (code: 'USER_NOT_FOUND' | 'SESSION_NOT_FOUND' | 'API_KEY_NOT_FOUND' | 'PLUGIN_TOKEN_NOT_FOUND', message: string) =>
  new UuidParamPipe(() => new AppError(code, message));
