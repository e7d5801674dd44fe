import { isUniqueViolation } from '../common/errors/database-errors';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { randomUUID } from 'node:crypto';
import { DataSource, In, Repository, type EntityManager } from 'typeorm';
import type { Principal, UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Plugin } from './plugin.entity';
import { PluginMaintainer } from './plugin-maintainer.entity';
import { inTransaction } from '../database/transactions';

/** A package name: lower-case letters and digits, with single `-`, `_` or `.` between them. */
export const PACKAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const PACKAGE_NAME_MAX = 100;

/** The scope a deploy token needs to upload. */
export const UPLOAD_SCOPE = 'plugin:upload';
/** The scope a user credential needs to change plugins (an API key without it cannot). */
export const WRITE_PLUGINS = 'write:plugins';

export interface PluginWithMaintainers {
  plugin: Plugin;
  maintainers: User[];
}

/**
 * Plugins and who maintains them. Every maintainer has the same rights; none is an owner. New
 * maintainers come only through an invitation they accept (PluginInvitationsService).
 */
@Injectable()
export class PluginsService {
  private readonly logger = new Logger(PluginsService.name);

  constructor(
    @InjectRepository(Plugin) private readonly plugins: Repository<Plugin>,
    @InjectRepository(PluginMaintainer) private readonly maintainers: Repository<PluginMaintainer>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  /** Creates a plugin; its creator becomes its first maintainer. */
  async create(creator: Pick<UserPrincipal, 'userId'>, name: string, displayName: string | undefined): Promise<Plugin> {
    const plugin = this.plugins.create({
      id: randomUUID(),
      name,
      displayName: displayName?.trim() || name,
      createdById: creator.userId,
      createdAt: new Date(),
    });
    try {
      await inTransaction(this.dataSource, async (tx) => {
        await tx.insert(Plugin, plugin);
        await tx.insert(PluginMaintainer, { pluginId: plugin.id, userId: creator.userId, addedAt: new Date() });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError('PLUGIN_NAME_TAKEN', `A plugin named "${name}" exists already.`);
      }
      throw error;
    }
    this.logger.log(`plugin created: ${name} (${plugin.id}) by user ${creator.userId}`);
    await this.audit.record('plugin.created', { subject: { type: 'plugin', id: plugin.id, label: name }, pluginId: plugin.id });
    return plugin;
  }

  /**
   * Makes a user a maintainer at once, without an invitation (the operator CLI: the operator
   * vouches for them). False when they maintain it already.
   */
  async addMaintainer(plugin: Plugin, user: Pick<User, 'id' | 'username'>): Promise<boolean> {
    const added = await inTransaction(this.dataSource, (tx) => insertMaintainer(tx, plugin.id, user.id, new Date()));
    if (added) await this.maintainerAdded(plugin, user, null);
    return added;
  }

  /** The audit event of a new maintainer: added by the CLI, or by an invitation (`invitedBy`) accepted. */
  async maintainerAdded(plugin: Plugin, user: Pick<User, 'id' | 'username'>, invitedBy: string | null): Promise<void> {
    this.logger.log(`maintainer added to ${plugin.name}: user ${user.id}`);
    await this.audit.record('plugin.maintainer_added', {
      subject: { type: 'user', id: user.id, label: user.username },
      userId: user.id,
      pluginId: plugin.id,
      details: { plugin: plugin.name, invited_by: invitedBy },
    });
  }

  async getByName(name: string): Promise<Plugin> {
    const plugin = name.length <= PACKAGE_NAME_MAX && PACKAGE_NAME.test(name) ? await this.plugins.findOne({ where: { name } }) : null;
    if (!plugin) throw new AppError('PLUGIN_NOT_FOUND', `No plugin "${name.slice(0, PACKAGE_NAME_MAX)}".`);
    return plugin;
  }

  async list(): Promise<PluginWithMaintainers[]> {
    const plugins = await this.plugins.find({ order: { name: 'ASC' }, relations: { createdBy: true } });
    return this.withMaintainers(plugins);
  }

  async getWithMaintainers(name: string): Promise<PluginWithMaintainers> {
    const plugin = await this.getByName(name);
    plugin.createdBy = plugin.createdById ? await this.users.findById(plugin.createdById) : null;
    return (await this.withMaintainers([plugin]))[0];
  }

  /** The plugins `userId` maintains. */
  async maintainedBy(userId: string): Promise<Plugin[]> {
    const rows = await this.maintainers.find({ where: { userId }, relations: { plugin: true } });
    return rows.map((r) => r.plugin!).sort((a, b) => a.name.localeCompare(b.name));
  }

  isMaintainer(pluginId: string, userId: string): Promise<boolean> {
    return this.maintainers.exists({ where: { pluginId, userId } });
  }

  /** 403 unless the principal is a user who maintains the plugin. */
  async assertMaintainer(plugin: Plugin, principal: Principal): Promise<UserPrincipal> {
    if (principal.kind !== 'user' || !(await this.isMaintainer(plugin.id, principal.userId))) {
      throw new AppError('PLUGIN_MAINTAINER_REQUIRED', `Only maintainers of "${plugin.name}" may do this.`);
    }
    return principal;
  }

  /** The plugin named `name`, if the principal maintains it (404 / 403 otherwise). */
  async getMaintained(name: string, principal: Principal): Promise<Plugin> {
    const plugin = await this.getByName(name);
    await this.assertMaintainer(plugin, principal);
    return plugin;
  }

  /** A maintainer, or a deploy token of this very plugin that may upload. */
  async assertCanUpload(plugin: Plugin, principal: Principal): Promise<void> {
    if (principal.kind === 'plugin_token') {
      if (principal.pluginId !== plugin.id || !principal.scopes.includes(UPLOAD_SCOPE)) {
        throw new AppError('PLUGIN_TOKEN_SCOPE_DENIED', `This deploy token cannot upload to "${plugin.name}".`);
      }
      return;
    }
    if (!principal.scopes.includes(WRITE_PLUGINS)) {
      throw new AppError('INSUFFICIENT_SCOPE', `Uploading needs the scope ${WRITE_PLUGINS}.`);
    }
    await this.assertMaintainer(plugin, principal);
  }

  /**
   * Removes a maintainer; the last one cannot go (409). A username nobody has gets the same 404
   * as a user who does not maintain the plugin: anyone can create a plugin, so a different answer
   * would tell which usernames exist.
   */
  async removeMaintainer(plugin: Plugin, username: string, by: UserPrincipal): Promise<void> {
    const name = UsersService.normalizeUsername(username).slice(0, 64);
    const notAMaintainer = () => new AppError('NOT_A_MAINTAINER', `${name} does not maintain "${plugin.name}".`);
    const user = await this.users.findByUsername(name);
    if (!user) throw notAMaintainer();
    await inTransaction(this.dataSource, async (tx) => {
      const repo = tx.getRepository(PluginMaintainer);
      if (!(await repo.exists({ where: { pluginId: plugin.id, userId: user.id } }))) throw notAMaintainer();
      if ((await repo.count({ where: { pluginId: plugin.id } })) <= 1) {
        throw new AppError('LAST_MAINTAINER', `${user.username} is the last maintainer of "${plugin.name}"; add another first.`);
      }
      await repo.delete({ pluginId: plugin.id, userId: user.id });
    });
    this.logger.log(`maintainer removed: ${user.username} from ${plugin.name} by user ${by.userId}`);
    await this.maintainerEvent('plugin.maintainer_removed', plugin, user);
  }

  /** The maintainer's own log shows it too (userId), and the plugin's maintainers (pluginId). */
  private maintainerEvent(type: 'plugin.maintainer_removed', plugin: Plugin, user: { id: string; username: string }) {
    return this.audit.record(type, {
      subject: { type: 'user', id: user.id, label: user.username },
      userId: user.id,
      pluginId: plugin.id,
      details: { plugin: plugin.name },
    });
  }

  private async withMaintainers(plugins: Plugin[]): Promise<PluginWithMaintainers[]> {
    if (plugins.length === 0) return [];
    const rows = await this.maintainers.find({
      where: { pluginId: In(plugins.map((p) => p.id)) },
      relations: { user: true },
      order: { addedAt: 'ASC' },
    });
    return plugins.map((plugin) => ({
      plugin,
      maintainers: rows.filter((r) => r.pluginId === plugin.id).map((r) => r.user!),
    }));
  }
}

/** Adds the maintainer row inside the caller's transaction; false when the user maintains the plugin already. */
export async function insertMaintainer(tx: EntityManager, pluginId: string, userId: string, at: Date): Promise<boolean> {
  if (await tx.exists(PluginMaintainer, { where: { pluginId, userId } })) return false;
  await tx.insert(PluginMaintainer, { pluginId, userId, addedAt: at });
  return true;
}
