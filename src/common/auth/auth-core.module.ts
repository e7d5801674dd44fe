import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app.config';
import { Clock } from '../clock';
import { CsrfTokens } from '../http/csrf-tokens';
import { CredentialStrategies } from './credential-strategy';
import { AuthenticationGuard } from './guards/authentication.guard';
import { AuthorizationGuard } from './guards/authorization.guard';
import { RecentLoginPolicy } from './recent-login';

/**
 * The reusable auth surface: the strategy registry, the two guards, the recent-login check, the
 * CSRF tokens bound to browser sessions, plus the injectable Clock. Global, so feature modules can register strategies, and imports no
 * feature module.
 */
@Global()
@Module({
  providers: [
    CredentialStrategies,
    AuthenticationGuard,
    AuthorizationGuard,
    Clock,
    {
      provide: RecentLoginPolicy,
      inject: [APP_CONFIG, Clock],
      useFactory: (config: AppConfig, clock: Clock) => new RecentLoginPolicy(config.auth.recentLoginMaxAge, clock),
    },
    {
      provide: CsrfTokens,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new CsrfTokens(config.auth.tokenPepper, config.publicUrl?.startsWith('https:') ?? false),
    },
  ],
  exports: [CredentialStrategies, AuthenticationGuard, AuthorizationGuard, Clock, RecentLoginPolicy, CsrfTokens],
})
export class AuthCoreModule {}
