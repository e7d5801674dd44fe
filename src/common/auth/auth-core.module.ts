import { Global, Module } from '@nestjs/common';
import { Clock } from '../clock';
import { CredentialStrategies } from './credential-strategy';
import { AuthenticationGuard } from './guards/authentication.guard';
import { AuthorizationGuard } from './guards/authorization.guard';

/**
 * The reusable auth surface: the strategy registry and the two guards, plus the injectable
 * Clock. Global, so feature modules can register strategies, and imports no feature module.
 */
@Global()
@Module({
  providers: [CredentialStrategies, AuthenticationGuard, AuthorizationGuard, Clock],
  exports: [CredentialStrategies, AuthenticationGuard, AuthorizationGuard, Clock],
})
export class AuthCoreModule {}
