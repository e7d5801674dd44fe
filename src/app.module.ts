import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LeakedTokensModule } from './leaked-tokens/leaked-tokens.module';
import { TrustedPublishingModule } from './trusted-publishing/trusted-publishing.module';
import { AdminModule } from './admin/admin.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { RevocationFeedModule } from './revocation-feed/revocation-feed.module';
import { RolesModule } from './roles/roles.module';
import { ScopeCatalogModule } from './common/auth/scope-catalog';
import { RedisModule } from './common/redis/redis.module';
import { AuthModule } from './auth/auth.module';
import { CredentialUsageModule } from './credential-usage/credential-usage.module';
import { MetadataModule } from './metadata/metadata.module';
import { PluginTokensModule } from './plugin-tokens/plugin-tokens.module';
import { PluginsModule } from './plugins/plugins.module';
import { AuthCoreModule } from './common/auth/auth-core.module';
import { AuthenticationGuard } from './common/auth/guards/authentication.guard';
import { AuthorizationGuard } from './common/auth/guards/authorization.guard';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { createValidationPipe } from './common/errors/validation';
import { AnsweredRequestsModule } from './common/http/answered';
import { RateLimitGuard, RateLimitModule } from './common/rate-limit';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './common/logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';
import { WebPagesModule } from './web/pages/web-pages.module';

@Module({
  imports: [
    AppConfigModule,
    DatabaseModule,
    AuthCoreModule,
    AnsweredRequestsModule,
    RedisModule,
    RateLimitModule,
    AuditModule,
    RevocationFeedModule,
    RolesModule,
    ScopeCatalogModule,
    UsersModule,
    SessionsModule,
    ApiKeysModule,
    AuthModule,
    PluginsModule,
    PluginTokensModule,
    LeakedTokensModule,
    TrustedPublishingModule,
    AdminModule,
    CredentialUsageModule,
    MetadataModule,
    WebPagesModule,
    HealthModule,
    LoggingModule,
    MetricsModule,
  ],
  providers: [
    {
      provide: APP_PIPE,
      useValue: createValidationPipe(),
    },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    // useExisting lets e2e suites override the guards (Nest docs, "Overriding globally registered enhancers").
    { provide: APP_GUARD, useExisting: AuthenticationGuard },
    { provide: APP_GUARD, useExisting: AuthorizationGuard },
    // After the auth guards: per-user limits need the principal; refused credentials count nothing.
    { provide: APP_GUARD, useExisting: RateLimitGuard },
  ],
})
export class AppModule {}
