import { Global, Module } from '@nestjs/common';
import { CredentialStrategies } from './credential-strategy';
import { AuthenticationGuard } from './guards/authentication.guard';
import { AuthorizationGuard } from './guards/authorization.guard';

/**
 * The reusable auth surface: the strategy registry and the two guards. Global, so feature
 * modules can register strategies, and imports no feature module.
 */
@Global()
@Module({
  providers: [CredentialStrategies, AuthenticationGuard, AuthorizationGuard],
  exports: [CredentialStrategies, AuthenticationGuard, AuthorizationGuard],
})
export class AuthCoreModule {}
