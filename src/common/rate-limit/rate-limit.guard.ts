import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import { AppConfig, InjectConfig } from '../../config/app.config';
import type { RateLimitConfig } from '../../config/configuration';
import { clientIp, type LatchkeyRequest } from '../http/request-context';
import { clientAddressKey } from './client-address';
import { RATE_LIMIT_METADATA, type RateLimitClass } from './rate-limit.decorator';
import { RateLimitStorage } from './rate-limit.storage';
import { tooManyRequests } from './too-many-requests';

const MESSAGES: Record<RateLimitClass, string> = {
  login: 'Too many login attempts from this address.',
  refresh: 'Too many session refreshes from this address.',
  create: 'Too many credentials created.',
  public: 'Too many requests from this address.',
};

/** Per client address, an IPv6 client by its /64: every class but `create`. */
function addressTracker(req: Record<string, unknown>): string {
  return `ip:${clientAddressKey(clientIp(req as unknown as LatchkeyRequest) ?? undefined)}`;
}

/** Per user for credential creation (a deploy token counts alone); per address otherwise. */
function principalTracker(req: Record<string, unknown>): string {
  const principal = (req as unknown as LatchkeyRequest).principal;
  if (principal?.kind === 'user') return `user:${principal.userId}`;
  if (principal?.kind === 'plugin_token') return `plugin-token:${principal.tokenId}`;
  return addressTracker(req);
}

/** One named throttler per route class; fixed windows of RATE_LIMIT_WINDOW seconds. */
export function throttlersFor(config: RateLimitConfig): ThrottlerOptions[] {
  const ttl = config.window * 1000;
  // blockDuration 0: past the limit, refused until the window ends (no extra penalty).
  return [
    { name: 'login', ttl, limit: config.loginPerIp, blockDuration: 0 },
    { name: 'refresh', ttl, limit: config.refreshPerIp, blockDuration: 0 },
    { name: 'create', ttl, limit: config.createPerUser, blockDuration: 0, getTracker: principalTracker },
    { name: 'public', ttl, limit: config.publicPerIp, blockDuration: 0 },
  ] satisfies (ThrottlerOptions & { name: RateLimitClass })[];
}

/**
 * Global guard (after authentication and authorization, so a per-user bucket knows its user and
 * refused credentials count nothing). `@nestjs/throttler` applies every named throttler to every
 * route; here a route opts in with `@RateLimit(...)`, and routes without it cost one metadata
 * lookup. Counters live in `RateLimitStorage` (Redis or memory); the bucket of a class is shared
 * by all routes of that class (key `<class>:<tracker>`). A refusal is our 429 with `Retry-After`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly enabled: boolean;
  private readonly classes = new WeakMap<object, readonly RateLimitClass[] | undefined>();

  // The storage comes in under the ThrottlerStorage token (as for ThrottlerGuard itself, whose
  // parameter decorators this class inherits); RateLimitModule binds it to RateLimitStorage.
  constructor(@InjectConfig() config: AppConfig, @InjectThrottlerStorage() storage: RateLimitStorage, reflector: Reflector) {
    super(
      {
        throttlers: throttlersFor(config.rateLimit),
        setHeaders: false,
        generateKey: (_context, tracker, name) => `${name}:${tracker}`,
      },
      storage,
      reflector,
    );
    this.enabled = config.rateLimit.enabled;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.enabled || context.getType() !== 'http' || !this.classesOf(context)) return true;
    return super.canActivate(context);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    if (!this.classesOf(props.context)?.includes(props.throttler.name as RateLimitClass)) return true;
    return super.handleRequest(props);
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const name = detail.key.slice(0, detail.key.indexOf(':')) as RateLimitClass;
    throw tooManyRequests(detail.timeToBlockExpire, MESSAGES[name] ?? MESSAGES.public);
  }

  /** Every class without a tracker of its own counts per client address. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return addressTracker(req);
  }

  /** The route's classes, read once per handler (this runs on every request, and once per class). */
  private classesOf(context: ExecutionContext): readonly RateLimitClass[] | undefined {
    const handler = context.getHandler();
    if (!this.classes.has(handler)) {
      this.classes.set(handler, this.reflector.getAllAndOverride<RateLimitClass[] | undefined>(RATE_LIMIT_METADATA, [handler, context.getClass()]));
    }
    return this.classes.get(handler);
  }
}
