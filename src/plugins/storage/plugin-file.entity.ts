import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../../database/column-types';

/** A plugin file in the database store (PLUGIN_STORAGE=database): its bytes are `PluginFileChunk`s. */
@Entity('plugin_files')
@Index('IDX_plugin_files_state_created_at', ['state', 'createdAt'])
export class PluginFile {
  /** The storage key a version refers to (`<uuid>.bin`, as on disk). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  /**
   * `incoming` while its upload is being received or waits for its version row; `stored` once kept;
   * `discarded` once no version refers to it (replaced): no longer served, deleted a little later so
   * that a download already under way ends.
   */
  @Column({ type: 'varchar', length: 16 })
  state: 'incoming' | 'stored' | 'discarded';

  /** Bytes; set when the upload is complete. A bigint comes back from PostgreSQL as a string. */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  size: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256: string | null;

  @Column({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Column({ name: 'discarded_at', ...COLUMN.timestamp, nullable: true })
  discardedAt: Date | null;
}

/** One piece of a file, in order (`seq` from 0), at most CHUNK_BYTES. */
@Entity('plugin_file_chunks')
export class PluginFileChunk {
  @PrimaryColumn({ name: 'file_key', type: 'varchar', length: 64 })
  fileKey: string;

  @ManyToOne(() => PluginFile, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_key' })
  file?: PluginFile;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ ...COLUMN.binary })
  data: Buffer;
}
