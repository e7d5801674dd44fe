import { Column, CreateDateColumn } from 'typeorm';
import { COLUMN } from './column-types';

/**
 * Columns every stored long-lived credential has (API keys, deploy tokens): when it was made,
 * when it expires, when and from where it was last used, when it was revoked. Entities extend
 * it; TypeORM puts the columns in each entity's own table.
 */
export abstract class StoredCredential {
  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Column({ name: 'expires_at', ...COLUMN.timestamp, nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'last_used_at', ...COLUMN.timestamp, nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'last_used_ip', type: 'varchar', length: 64, nullable: true })
  lastUsedIp: string | null;

  @Column({ name: 'revoked_at', ...COLUMN.timestamp, nullable: true })
  revokedAt: Date | null;
}
