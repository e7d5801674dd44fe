import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { LatchkeyGuard } from './guard';
import { LatchkeyClient } from './latchkey-client';
import { LATCHKEY_OPTIONS, type LatchkeyOptions } from './options';
import { LatchkeyRevocations } from './revocations';
import { LatchkeyIntrospectionStrategy, LatchkeyJwtStrategy } from './strategies';

/** Fetches Latchkey's keys at start, so the first request does not wait for them (retried on demand if Latchkey is not up yet). */
@Injectable()
class KeyPrefetch implements OnApplicationBootstrap {
  private readonly logger = new Logger('Latchkey');

  constructor(
    private readonly client: LatchkeyClient,
    @Inject(LATCHKEY_OPTIONS) private readonly options: LatchkeyOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.client.refreshKeys().catch((error: Error) => this.logger.warn(`could not fetch Latchkey's keys from ${this.options.url} yet: ${error.message}`));
  }
}

/**
 * Protects a Nest service with Latchkey. `LatchkeyModule.forRoot({ url, apiKey })` once, in the
 * root module; then `@Public()`, `@RequireScopes()`, `@Roles()` and `@CurrentPrincipal()` on
 * controllers, as inside Latchkey. Global: the guard covers every route unless `global: false`
 * (then `@UseGuards(LatchkeyGuard)` where wanted).
 */
@Module({})
export class LatchkeyModule {
  static forRoot(options: LatchkeyOptions): DynamicModule {
    return {
      module: LatchkeyModule,
      global: true,
      imports: [PassportModule],
      providers: [
        { provide: LATCHKEY_OPTIONS, useValue: options },
        LatchkeyClient,
        LatchkeyRevocations,
        LatchkeyJwtStrategy,
        LatchkeyIntrospectionStrategy,
        LatchkeyGuard,
        KeyPrefetch,
        ...(options.global === false ? [] : [{ provide: APP_GUARD, useExisting: LatchkeyGuard }]),
      ],
      exports: [LatchkeyClient, LatchkeyRevocations, LatchkeyGuard],
    };
  }
}
