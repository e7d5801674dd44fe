import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isKnownRole, knownRoles } from './scopes';

/** A built-in or custom role (custom roles change at run time, so `@IsIn` with a fixed list will not do). */
export function IsKnownRole(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isKnownRole',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isKnownRole(value),
        defaultMessage: (args) => `${args?.property ?? 'role'} must be one of: ${knownRoles().join(', ')}`,
      },
    },
    options,
  );
}
