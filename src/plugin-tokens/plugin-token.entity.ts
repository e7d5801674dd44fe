import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { StoredCredential } from '../database/stored-credential';
import { Plugin } from '../plugins/plugin.entity';
import { User } from '../users/user.entity';

/**
 * A deploy token: acts for one plugin, not for a person. It belongs to the plugin (every
 * maintainer sees and manages it) and outlives its creator, who is kept for display only.
 */
@Entity('plugin_tokens')
export class PluginToken extends StoredCredential {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Index('IDX_plugin_tokens_plugin_id')
  @Column({ name: 'plugin_id', ...COLUMN.uuid })
  pluginId: string;

  @ManyToOne(() => Plugin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: Plugin;

  @Column({ type: 'varchar', length: 200 })
  description: string;

  @Index('UQ_plugin_tokens_secret_hash', { unique: true })
  @Column({ name: 'secret_hash', type: 'varchar', length: 64, select: false })
  secretHash: string;

  /** After a rotation: the old secret's hash, accepted until `previousValidUntil`. */
  @Index('IDX_plugin_tokens_previous_secret_hash')
  @Column({ name: 'previous_secret_hash', type: 'varchar', length: 64, nullable: true, select: false })
  previousSecretHash: string | null;

  @Column({ name: 'previous_valid_until', ...COLUMN.timestamp, nullable: true })
  previousValidUntil: Date | null;

  @Column({ type: 'simple-json' })
  scopes: string[];

  @Column({ name: 'created_by_id', ...COLUMN.uuid, nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User | null;

  /**
   * Set when a trusted publisher's CI job got this token (src/trusted-publishing); null: made by a
   * maintainer. Kept when the publisher is removed (no foreign key), like an audit reference.
   */
  @Column({ name: 'trusted_publisher_id', ...COLUMN.uuid, nullable: true })
  trustedPublisherId: string | null;

  @Column({ name: 'rotated_at', ...COLUMN.timestamp, nullable: true })
  rotatedAt: Date | null;
}
