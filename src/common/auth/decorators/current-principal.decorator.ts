import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { LatchkeyRequest } from '../../http/request-context';
import { accessTagsOf } from '../principal';

/** The Principal the global guard resolved (null on @Public / anonymous @OptionalAuth routes). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<LatchkeyRequest>().principal ?? null,
);

/**
 * The access tags the request is restricted to (`accessTagsOf(principal)`): a list for an API key
 * created with `access_tags`, null (not restricted) for every other credential and for anonymous
 * callers. A consumer module that tags its data shows the caller only entries carrying one of them.
 */
export const AccessTags = createParamDecorator((_data: unknown, ctx: ExecutionContext): readonly string[] | null => {
  const principal = ctx.switchToHttp().getRequest<LatchkeyRequest>().principal;
  return principal ? accessTagsOf(principal) : null;
});
