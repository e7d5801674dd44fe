import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { COLUMN } from '../database/column-types';
import { User } from '../users/user.entity';
import { Plugin } from './plugin.entity';

/**
 * A pending invitation to maintain a plugin. A maintainer invites a username; the invitee accepts
 * (and becomes a maintainer) or declines. The row goes away when it is accepted, declined or
 * revoked (the audit log keeps the story); an expired row is ignored and replaced by a new
 * invitation of the same username.
 *
 * `inviteeId` is resolved when the invitation is made and is null when no user has the username:
 * such an invitation looks the same to the maintainers (no username enumeration) and simply never
 * becomes acceptable. It is never shown to maintainers.
 */
@Entity('plugin_invitations')
@Index('UQ_plugin_invitations_plugin_username', ['pluginId', 'username'], { unique: true })
export class PluginInvitation {
  @PrimaryColumn({ ...COLUMN.uuid })
  id: string;

  @Column({ name: 'plugin_id', ...COLUMN.uuid })
  pluginId: string;

  @ManyToOne(() => Plugin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plugin_id' })
  plugin?: Plugin;

  /** The username as the maintainer typed it (normalised). */
  @Column({ type: 'varchar', length: 64 })
  username: string;

  @Index('IDX_plugin_invitations_invitee_id')
  @Column({ name: 'invitee_id', ...COLUMN.uuid, nullable: true })
  inviteeId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'invitee_id' })
  invitee?: User | null;

  @Column({ name: 'invited_by_id', ...COLUMN.uuid, nullable: true })
  invitedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invited_by_id' })
  invitedBy?: User | null;

  @Column({ name: 'created_at', ...COLUMN.timestamp })
  createdAt: Date;

  @Column({ name: 'expires_at', ...COLUMN.timestamp })
  expiresAt: Date;
}
