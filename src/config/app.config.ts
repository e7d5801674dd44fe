import { Inject } from '@nestjs/common';
import { loadConfig } from './configuration';

export type { AppConfig, AuditConfig, AuthConfig, RedisConfig, DatabaseConfig, PluginsConfig, SecretKey } from './configuration';
export type { OidcConfig, OidcProviderConfig } from './oidc.config';
export type { TrustedIssuerConfig, TrustedPublishingConfig } from './trusted-publishing.config';

/**
 * DI token for the validated, typed configuration. Built once per application instance from
 * process.env (so a test can boot a second app with other env values, e.g. rotated keys).
 */
export const APP_CONFIG = Symbol('APP_CONFIG');

export const InjectConfig = () => Inject(APP_CONFIG);

export const appConfigProvider = {
  provide: APP_CONFIG,
  useFactory: () => loadConfig(process.env),
};
