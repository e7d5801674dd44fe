import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { OidcClient } from './oidc-client';

/**
 * The configured OpenID Connect providers (OIDC_PROVIDERS), one OidcClient each, by name. At boot
 * each one's discovery document is fetched in the background: the first login does not wait for
 * it, and the boot log says at once when an IdP does not offer the username claim.
 */
@Injectable()
export class OidcProviders implements OnApplicationBootstrap {
  readonly clients: readonly OidcClient[];
  private readonly byName: ReadonlyMap<string, OidcClient>;

  constructor(@InjectConfig() config: AppConfig) {
    this.clients = config.oidc.providers.map((p) => new OidcClient(p, config.oidc.httpTimeoutMs));
    this.byName = new Map(this.clients.map((c) => [c.config.name, c]));
  }

  onApplicationBootstrap(): void {
    for (const client of this.clients) client.metadata().catch(() => undefined); // an unreachable IdP is retried when needed
  }

  get enabled(): boolean {
    return this.clients.length > 0;
  }

  find(name: string): OidcClient | undefined {
    return this.byName.get(name);
  }

  /** The provider, or a 404 naming it (bounded: the name comes from a URL). */
  get(name: string): OidcClient {
    const client = this.byName.get(name);
    if (!client) throw new AppError('PROVIDER_NOT_FOUND', `No external identity provider named "${name.slice(0, 64)}".`);
    return client;
  }
}
