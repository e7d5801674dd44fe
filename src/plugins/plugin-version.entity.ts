import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { Plugin } from './plugin.entity';

/** One released version of a plugin and its stored file. */
@Entity('plugin_versions')
@Index('UQ_plugin_versions_plugin_version', ['pluginId', 'version'], { unique: true })
export class PluginVersion {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Column({ name: 'plugin_id', ...COLUMN.uuid })
  pluginId: string;

  @ManyToOne(() => Plugin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: Plugin;

  @Column({ type: 'varchar', length: 64 })
  version: string;

  @Column({ type: 'varchar', length: 255 })
  filename: string;

  /** Bytes. A bigint column comes back as a string from PostgreSQL: the transformer reads a number. */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  size: number;

  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  /** File name under PLUGIN_STORAGE_DIR; never derived from client input. */
  @Column({ name: 'storage_key', type: 'varchar', length: 255 })
  storageKey: string;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  /** Who uploaded it, as shown: a username, or `Token {description}` for a deploy token. */
  @Column({ name: 'uploaded_by', type: 'varchar', length: 255 })
  uploadedBy: string;

  @Column({ name: 'uploaded_by_user_id', ...COLUMN.uuid, nullable: true })
  uploadedByUserId: string | null;

  @Column({ name: 'uploaded_by_token_id', ...COLUMN.uuid, nullable: true })
  uploadedByTokenId: string | null;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', ...COLUMN.timestamp })
  updatedAt: Date;
}
