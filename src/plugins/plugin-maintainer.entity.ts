import { CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from '../users/user.entity';
import { Plugin } from './plugin.entity';

@Entity('plugin_maintainers')
export class PluginMaintainer {
  @PrimaryColumn({ name: 'plugin_id', ...COLUMN.uuid })
  pluginId: string;

  @PrimaryColumn({ name: 'user_id', ...COLUMN.uuid })
  userId: string;

  @ManyToOne(() => Plugin, (p) => p.maintainers, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: Plugin;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @CreateDateColumn({ name: 'added_at', ...COLUMN.timestamp })
  addedAt: Date;
}
