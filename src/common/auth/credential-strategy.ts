import { Injectable, OnModuleInit } from '@nestjs/common';
import type { LatchkeyRequest } from '../http/request-context';
import type { MaybePromise } from '../maybe-async';
import type { PresentedCredential } from './credentials';
import type { Principal, PrincipalKind } from './principal';

/**
 * A way of turning a presented credential into a Principal. Each lives with its data (the
 * access-token strategy in `sessions/`, API keys in `api-keys/`, deploy tokens in
 * `plugin-tokens/`) and registers itself in `CredentialStrategies` when its module starts, so
 * the global guard finds it by what it accepts and never imports a feature module.
 */
export interface CredentialStrategy {
  readonly name: string;
  /** The kind of principal this strategy produces; routes decide which kinds they take. */
  readonly principalKind: PrincipalKind;
  /** A cheap syntactic test (scheme, prefix, shape): no I/O. The first strategy that accepts wins. */
  accepts(credential: PresentedCredential): boolean;
  /**
   * Verifies the credential; throws an AppError (401, 503, …) when it does not hold. May answer
   * synchronously when everything it needs is in memory (a cached access token and user): the
   * guard then settles the request without a promise.
   */
  authenticate(credential: PresentedCredential, req: LatchkeyRequest): MaybePromise<Principal>;
}

@Injectable()
export class CredentialStrategies {
  private readonly strategies: CredentialStrategy[] = [];

  register(strategy: CredentialStrategy): void {
    if (this.strategies.some((s) => s.name === strategy.name)) {
      throw new Error(`Credential strategy "${strategy.name}" is registered twice`);
    }
    this.strategies.push(strategy);
  }

  find(credential: PresentedCredential): CredentialStrategy | undefined {
    for (const strategy of this.strategies) if (strategy.accepts(credential)) return strategy;
    return undefined;
  }

  names(): string[] {
    return this.strategies.map((s) => s.name);
  }
}

/**
 * Base class for strategies: registers the strategy when its module starts. A feature module
 * lists its subclass as a provider and nothing else.
 */
export abstract class RegisteredStrategy implements CredentialStrategy, OnModuleInit {
  abstract readonly name: string;
  abstract readonly principalKind: PrincipalKind;

  protected constructor(private readonly registry: CredentialStrategies) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  abstract accepts(credential: PresentedCredential): boolean;
  abstract authenticate(credential: PresentedCredential, req: LatchkeyRequest): MaybePromise<Principal>;
}
