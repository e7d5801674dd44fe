import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from '../users/user.entity';
import { PluginMaintainer } from './plugin-maintainer.entity';

/** A package that maintainers release, by hand or from CI with a deploy token. */
@Entity('plugins')
export class Plugin {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  /** The package name: a lower-case slug, unique, used in every URL. */
  @Column({ type: 'varchar', length: 100, unique: true })
  name: string;

  @Column({ name: 'display_name', type: 'varchar', length: 200 })
  displayName: string;

  /** Kept for display only; the plugin belongs to its maintainers, not to its creator. */
  @Column({ name: 'created_by_id', ...COLUMN.uuid, nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User | null;

  @CreateDateColumn({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @OneToMany(() => PluginMaintainer, (m) => m.plugin)
  maintainers?: PluginMaintainer[];
}
