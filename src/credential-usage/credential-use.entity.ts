import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { COLUMN } from '../database/column-types';
import { PluginToken } from '../plugin-tokens/plugin-token.entity';

/** The credential kinds whose uses are logged. */
export type UsageCredentialType = 'api_key' | 'deploy_token';

/** One credential, as the usage log names it. */
export interface UsageCredentialRef {
  readonly type: UsageCredentialType;
  readonly id: string;
}

/**
 * One authenticated request made with an API key or a deploy token. Exactly one of `apiKeyId`
 * and `pluginTokenId` is set; both are foreign keys with `ON DELETE CASCADE`, so the log goes
 * with its credential (a deleted user's keys, a deleted plugin's tokens). Holds the route
 * *pattern* (`/api/v1/plugins/:package/versions`), never the URL, a query string, a header
 * value or a secret. At most `USAGE_LOG_SIZE` rows per credential remain after each flush.
 */
@Entity('credential_uses')
@Check('CHK_credential_uses_one_credential', '("api_key_id" IS NULL) <> ("plugin_token_id" IS NULL)')
@Index('IDX_credential_uses_api_key', ['apiKeyId', 'usedAt'])
@Index('IDX_credential_uses_plugin_token', ['pluginTokenId', 'usedAt'])
export class CredentialUse {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'api_key_id', ...COLUMN.uuid, nullable: true })
  apiKeyId: string | null;

  @ManyToOne(() => ApiKey, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'api_key_id' })
  apiKey?: ApiKey;

  @Column({ name: 'plugin_token_id', ...COLUMN.uuid, nullable: true })
  pluginTokenId: string | null;

  @ManyToOne(() => PluginToken, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_token_id' })
  pluginToken?: PluginToken;

  /** When the answer was sent (or the client went away). */
  @Column({ name: 'used_at', ...COLUMN.timestamp })
  usedAt: Date;

  @Column({ type: 'varchar', length: 16 })
  method: string;

  /** The route pattern that matched, with the global prefix; null if the request matched none. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  route: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  /** HTTP status of the answer; 499 when the client closed the connection before it was complete. */
  @Column({ type: 'integer' })
  status: number;
}
