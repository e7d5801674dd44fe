import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { LatchkeyRequest } from '../../http/request-context';

/** The Principal the global guard resolved (null on @Public / anonymous @OptionalAuth routes). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<LatchkeyRequest>().principal ?? null,
);
