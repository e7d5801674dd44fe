import { Global, Injectable, Module, OnModuleInit, SetMetadata } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { SCOPES } from './decorators/auth-metadata';
import { ROLE_SCOPES } from './scopes';

const DECLARED_SCOPES = 'latchkey:declared-scopes';

/**
 * Declares the scopes a module's routes use, with what each allows, on the module class. Every
 * scope in `@RequireScopes()` (and in a built-in role) must be declared by some module, or the
 * application does not start (ScopeCatalog); declarations show in the OpenAPI document, in the
 * API-key scope picker on /account and in `/auth/whoami`.
 */
export const DeclareScopes = (scopes: Record<string, string>) => SetMetadata(DECLARED_SCOPES, scopes);

/**
 * Every scope the modules of this application declared (name → description), checked at start
 * against the routes: an undeclared scope in `@RequireScopes()` stops the boot with a message
 * naming the route and the scope, so a typo never becomes a route nobody can call.
 */
@Injectable()
export class ScopeCatalog implements OnModuleInit {
  private readonly scopes = new Map<string, { description: string; module: string }>();
  private collected = false;
  private failure?: Error;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    this.collect();
  }

  /** Reads the declarations and checks the routes, once (the OpenAPI document may ask before init). */
  private collect(): void {
    if (this.failure) throw this.failure;
    if (this.collected) return;
    this.collected = true;
    const problems: string[] = [];
    for (const module of this.modules.values()) {
      const declared = this.reflector.get<Record<string, string> | undefined>(DECLARED_SCOPES, module.metatype);
      for (const [name, description] of Object.entries(declared ?? {})) {
        const earlier = this.scopes.get(name);
        if (earlier && earlier.module !== module.metatype.name) problems.push(`the scope "${name}" is declared by both ${earlier.module} and ${module.metatype.name}`);
        this.scopes.set(name, { description, module: module.metatype.name });
      }
    }
    for (const [role, scopes] of Object.entries(ROLE_SCOPES)) {
      for (const scope of scopes) if (!this.scopes.has(scope)) problems.push(`the built-in role "${role}" grants "${scope}", which no module declares`);
    }
    for (const module of this.modules.values()) {
      for (const controller of module.controllers.values()) {
        const type = controller.metatype as (new (...args: unknown[]) => unknown) | null;
        if (!type) continue;
        const onClass = this.reflector.get<string[] | undefined>(SCOPES, type) ?? [];
        for (const key of Object.getOwnPropertyNames(type.prototype)) {
          const handler = (type.prototype as Record<string, unknown>)[key];
          if (key === 'constructor' || typeof handler !== 'function') continue;
          const onMethod = this.reflector.get<string[] | undefined>(SCOPES, handler) ?? [];
          for (const scope of [...onClass, ...onMethod]) {
            if (!this.scopes.has(scope)) problems.push(`@RequireScopes('${scope}') on ${type.name}.${key}: no module declares "${scope}" (add it to @DeclareScopes on the module that owns it)`);
          }
        }
      }
    }
    if (problems.length > 0) {
      this.failure = new Error(`Scopes:\n  ${[...new Set(problems)].join('\n  ')}`);
      throw this.failure;
    }
  }

  /** name → description, sorted by name. */
  all(): Record<string, string> {
    this.collect();
    return Object.fromEntries([...this.scopes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => [name, s.description]));
  }

  describe(scope: string): string | undefined {
    this.collect();
    return this.scopes.get(scope)?.description;
  }
}

/**
 * The catalog, for the server application only (AppModule): the CLI and other application contexts
 * load a subset of the modules, whose declarations would not cover the built-in roles.
 */
@Global()
@Module({ providers: [ScopeCatalog], exports: [ScopeCatalog] })
export class ScopeCatalogModule {}
