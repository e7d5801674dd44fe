import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { LatchkeyPrincipal } from './principal';

export const IS_PUBLIC = 'latchkey:public';
export const REQUIRED_SCOPES = 'latchkey:scopes';
export const REQUIRED_ROLES = 'latchkey:roles';

/** The route needs no credential. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Every listed scope must be among the credential's (403 `INSUFFICIENT_SCOPE` otherwise). Class and method lists add up. */
export const RequireScopes = (...scopes: string[]) => SetMetadata(REQUIRED_SCOPES, scopes);

/** Every listed role must be the user's (403 otherwise). */
export const Roles = (...roles: string[]) => SetMetadata(REQUIRED_ROLES, roles);

/** The request's `LatchkeyPrincipal`. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): LatchkeyPrincipal | undefined => ctx.switchToHttp().getRequest<{ user?: LatchkeyPrincipal }>().user,
);
