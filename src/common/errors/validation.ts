import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { AppError } from './app-error';

/**
 * The validation rules of every request: unknown fields are a 422, values are transformed to
 * their DTO types. The global APP_PIPE, and handlers that check a body a second time against a
 * narrower DTO (one route, two grants), use this same pipe.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: validationExceptionFactory,
  });
}

/** Turns class-validator errors into one 422 AppError that names each bad field. */
export function validationExceptionFactory(errors: ValidationError[]): AppError {
  const flat = flatten(errors);
  const message = flat.length
    ? `Invalid request: ${flat.map((e) => e.message).join('; ')}`
    : 'Invalid request body.';
  return new AppError('VALIDATION_FAILED', message, { errors: flat });
}

function flatten(errors: ValidationError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}
