import { AppError } from '../common/errors/app-error';
import { parseUuid } from '../common/uuid';
import type { PipeTransform } from '@nestjs/common';

/** Path id of a linked identity → normalised UUID; a malformed one is 404 IDENTITY_NOT_FOUND, as an unknown one. */
export const identityIdOr404 = (): PipeTransform<unknown, string> => ({
  transform(value: unknown): string {
    const id = parseUuid(value);
    if (!id) throw new AppError('IDENTITY_NOT_FOUND', 'No such linked identity.');
    return id;
  },
});
