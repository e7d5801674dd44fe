import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, MoreThan, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { UserPrincipal } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { parseUuid } from '../common/uuid';
import { AppConfig, InjectConfig } from '../config/app.config';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Plugin } from './plugin.entity';
import { PluginInvitation } from './plugin-invitation.entity';
import { inTransaction } from '../database/transactions';
import { insertMaintainer, PluginsService } from './plugins.service';

/**
 * Becoming a maintainer takes two people: a maintainer invites a username, and that user accepts.
 *
 * No username enumeration: inviting a username nobody has, someone who already maintains the
 * plugin, or a real user are the same act with the same answer (an invitation is stored for each,
 * the same lookups run, the same audit event is written without a user id). An invitation to an
 * unknown username names no invitee, so nobody can ever accept it. Only the invitee sees and
 * answers an invitation; for anyone else its id answers exactly like an unknown id.
 */
@Injectable()
export class PluginInvitationsService {
  private readonly logger = new Logger(PluginInvitationsService.name);

  constructor(
    @InjectRepository(PluginInvitation) private readonly invitations: Repository<PluginInvitation>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly plugins: PluginsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Invites `username` to maintain `plugin` (the caller maintains it); replaces an earlier pending invitation of the name. */
  async invite(plugin: Plugin, username: string, by: UserPrincipal): Promise<PluginInvitation> {
    const name = UsersService.normalizeUsername(username);
    const invitee = await this.users.findByUsername(name);
    const now = this.clock.now();
    const invitation = this.invitations.create({
      id: randomUUID(),
      pluginId: plugin.id,
      username: name,
      inviteeId: invitee?.id ?? null,
      invitedById: by.userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.plugins.invitationTtl * 1000),
    });
    // Maintainers inviting the same name at once: one after the other, the later replacing the
    // earlier. SQLite runs one transaction at a time (inTransaction); on PostgreSQL a transaction
    // lock on (plugin, name) orders them (retrying unique violations still lost a race of five).
    await inTransaction(this.dataSource, async (tx) => {
      if (this.dataSource.options.type === 'postgres') {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`latchkey:plugin-invitation:${plugin.id}:${name}`]);
      }
      await tx.delete(PluginInvitation, { pluginId: plugin.id, username: name });
      await tx.insert(PluginInvitation, invitation);
    });
    this.logger.log(`maintainer invitation ${invitation.id} to ${plugin.name} by user ${by.userId}`);
    await this.event('plugin.maintainer_invited', plugin, invitation);
    invitation.plugin = plugin;
    invitation.invitedBy = Object.assign(new User(), { id: by.userId, username: by.username });
    return invitation;
  }

  /** The plugin's pending (unexpired) invitations, for its maintainers. */
  pendingFor(plugin: Plugin): Promise<PluginInvitation[]> {
    return this.invitations.find({
      where: { pluginId: plugin.id, expiresAt: MoreThan(this.clock.now()) },
      relations: { invitedBy: true },
      order: { createdAt: 'ASC' },
    });
  }

  /** Withdraws a pending invitation of `plugin` (any maintainer may). */
  async revoke(plugin: Plugin, id: string, by: UserPrincipal): Promise<void> {
    const invitation = await this.find({ id, pluginId: plugin.id });
    if (!invitation) throw notFound();
    await this.invitations.delete({ id: invitation.id });
    this.logger.log(`maintainer invitation ${invitation.id} to ${plugin.name} revoked by user ${by.userId}`);
    await this.event('plugin.invitation_revoked', plugin, invitation);
  }

  /** The caller's own pending (unexpired) invitations. */
  mine(userId: string): Promise<PluginInvitation[]> {
    return this.invitations.find({
      where: { inviteeId: userId, expiresAt: MoreThan(this.clock.now()) },
      relations: { plugin: true, invitedBy: true },
      order: { createdAt: 'ASC' },
    });
  }

  /** The invitee accepts: they become a maintainer (idempotent if they are one already). */
  async accept(id: string, principal: UserPrincipal): Promise<PluginInvitation> {
    const invitation = await this.ownPending(id, principal);
    const plugin = invitation.plugin!;
    const added = await inTransaction(this.dataSource, async (tx) => {
      // Deleting first makes a double accept (two tabs) answer 404 once instead of racing.
      const { affected } = await tx.delete(PluginInvitation, { id: invitation.id });
      if (!affected) throw notFound();
      return insertMaintainer(tx, plugin.id, principal.userId, this.clock.now());
    });
    this.logger.log(`maintainer invitation ${invitation.id} to ${plugin.name} accepted by user ${principal.userId}`);
    await this.event('plugin.invitation_accepted', plugin, invitation, principal.userId);
    if (added) await this.plugins.maintainerAdded(plugin, { id: principal.userId, username: principal.username }, invitation.invitedBy?.username ?? null);
    return invitation;
  }

  /** The invitee declines; the invitation is gone. */
  async decline(id: string, principal: UserPrincipal): Promise<void> {
    const invitation = await this.find({ id, inviteeId: principal.userId });
    if (!invitation) throw notFound();
    await this.invitations.delete({ id: invitation.id });
    this.logger.log(`maintainer invitation ${invitation.id} to ${invitation.plugin!.name} declined by user ${principal.userId}`);
    await this.event('plugin.invitation_declined', invitation.plugin!, invitation, principal.userId);
  }

  /** The caller's own invitation `id`: 404 when it is not theirs (or not there), 410 when it has expired. */
  private async ownPending(id: string, principal: UserPrincipal): Promise<PluginInvitation> {
    const invitation = await this.find({ id, inviteeId: principal.userId });
    if (!invitation) throw notFound();
    if (invitation.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new AppError('INVITATION_EXPIRED', `Your invitation to maintain "${invitation.plugin!.name}" has expired; ask a maintainer to invite you again.`);
    }
    return invitation;
  }

  private find(where: { id: string; pluginId?: string; inviteeId?: string }): Promise<PluginInvitation | null> {
    const id = parseUuid(where.id);
    if (!id) return Promise.resolve(null);
    return this.invitations.findOne({ where: { ...where, id }, relations: { plugin: true, invitedBy: true } });
  }

  /**
   * The plugin's maintainers see every invitation event in the plugin's log; the invitee's id is
   * added only once they answer (it would tell existing usernames from unknown ones otherwise).
   */
  private event(
    type: 'plugin.maintainer_invited' | 'plugin.invitation_accepted' | 'plugin.invitation_declined' | 'plugin.invitation_revoked',
    plugin: Plugin,
    invitation: PluginInvitation,
    inviteeId?: string,
  ): Promise<void> {
    return this.audit.record(type, {
      subject: { type: 'plugin_invitation', id: invitation.id, label: invitation.username },
      userId: inviteeId,
      pluginId: plugin.id,
      details: { plugin: plugin.name, username: invitation.username },
    });
  }
}

function notFound(): AppError {
  return new AppError('INVITATION_NOT_FOUND', 'No pending invitation with this id for you.');
}
