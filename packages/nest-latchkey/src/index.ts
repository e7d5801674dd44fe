export { LatchkeyModule } from './latchkey.module';
export { LatchkeyGuard } from './guard';
export { Public, RequireScopes, Roles, CurrentPrincipal } from './decorators';
export type { LatchkeyPrincipal } from './principal';
export type { LatchkeyOptions } from './options';
export { LatchkeyClient, LatchkeyUnreachable } from './latchkey-client';
export { LatchkeyRevocations } from './revocations';
export { LatchkeyJwtStrategy, LatchkeyIntrospectionStrategy } from './strategies';
