import { Injectable } from '@nestjs/common';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { toTiledApiKey } from '../api-keys/dto/api-key-response.dto';
import { latestActivity, toPrincipalResponse, type PrincipalResponse } from '../auth/dto/whoami-response.dto';
import { toRevokeAllResponse, type RevokeAllResponse } from '../auth/dto/revoke-all-response.dto';
import type { UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { RecentLoginPolicy } from '../common/auth/recent-login';
import { Role } from '../common/auth/scopes';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PluginsService } from '../plugins/plugins.service';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import { UsersService, type UserListQuery } from '../users/users.service';
import { type AdminUserPage, type AdminUserResponse, type CreateUserDto, type DeletedUserResponse, toAdminUserResponse } from './dto/admin-user.dto';

/**
 * The administrators' view of users (Latchkey's `/admin/users` and Tiled's `/auth/principal`):
 * listings with each user's last activity, and the changes an administrator makes. The rules
 * live in UsersService (last active admin, audit events, revoke-all); this adds who may ask:
 * creating an administrator or granting the admin role needs a recent login.
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly plugins: PluginsService,
    private readonly recentLogin: RecentLoginPolicy,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async list(query: UserListQuery): Promise<AdminUserPage> {
    const { users, total } = await this.users.listPage(query);
    return { items: await this.describe(users), total, offset: query.offset, limit: query.limit };
  }

  async get(id: string): Promise<AdminUserResponse> {
    return (await this.describe([await this.users.getById(id)]))[0];
  }

  async create(body: CreateUserDto, by: UserPrincipal): Promise<AdminUserResponse> {
    const roles = body.roles ?? [Role.User];
    if (roles.includes(Role.Admin)) this.recentLogin.assert(by);
    const user = await this.users.create({
      username: body.username,
      password: body.password,
      roles,
      email: body.email ?? null,
      displayName: body.display_name ?? null,
    });
    return this.get(user.id);
  }

  async setRoles(id: string, roles: string[], by: UserPrincipal): Promise<AdminUserResponse> {
    const current = await this.users.getById(id);
    if (roles.includes(Role.Admin) && !current.roles.includes(Role.Admin)) this.recentLogin.assert(by);
    await this.users.setRoles(id, roles);
    return this.get(id);
  }

  async setGroups(id: string, groups: string[], by: UserPrincipal): Promise<AdminUserResponse> {
    await this.users.setGroups(id, groups, `administrator ${by.username}`);
    return this.get(id);
  }

  async setStatus(id: string, status: 'active' | 'disabled'): Promise<AdminUserResponse> {
    await this.users.setStatus(id, status);
    return this.get(id);
  }

  /** Deletes the user; names the plugins left without a maintainer. */
  async delete(id: string): Promise<DeletedUserResponse> {
    const maintained = await this.plugins.maintainedBy(id);
    const user = await this.users.delete(id);
    const orphaned: string[] = [];
    for (const plugin of maintained) {
      const { maintainers } = await this.plugins.getWithMaintainers(plugin.name);
      if (maintainers.length === 0) orphaned.push(plugin.name);
    }
    return { id: user.id, username: user.username, orphaned_plugins: orphaned };
  }

  async revokeAll(id: string): Promise<RevokeAllResponse> {
    await this.users.getById(id);
    return toRevokeAllResponse(await this.users.revokeAll(id));
  }

  // --- Tiled's principal routes (§6.11) ---

  async listPrincipals(offset: number, limit: number): Promise<PrincipalResponse[]> {
    if (limit === 0) return [];
    const { users } = await this.users.listPage({ offset, limit });
    return this.describePrincipals(users);
  }

  /** 404 with Tiled's message `No such Principal <uuid>`. */
  async getPrincipal(id: string): Promise<PrincipalResponse> {
    const user = await this.users.findById(id);
    if (!user) throw principalNotFound(id);
    return (await this.describePrincipals([user]))[0];
  }

  async createServicePrincipal(role: string, by: UserPrincipal): Promise<PrincipalResponse> {
    if (role === Role.Admin) this.recentLogin.assert(by);
    return (await this.describePrincipals([await this.users.createService(role)]))[0];
  }

  // --- batch loading ---

  private async describe(users: User[]): Promise<AdminUserResponse[]> {
    const related = await this.related(users);
    return users.map((u) => {
      const r = related(u.id);
      return toAdminUserResponse(u, latestActivity(u, r.identities, r.sessions, r.keys.map((k) => this.apiKeys.lastUse(k)?.at)));
    });
  }

  private async describePrincipals(users: User[]): Promise<PrincipalResponse[]> {
    const related = await this.related(users);
    const withPassword = await this.users.withPassword(users.map((u) => u.id));
    return users.map((u) => {
      const r = related(u.id);
      const keys = r.keys.map((k) => toTiledApiKey(k, this.apiKeys.lastUse(k)));
      return toPrincipalResponse(u, r.sessions, keys, this.config.auth.passwordProviderName, r.identities, withPassword.has(u.id));
    });
  }

  /** Sessions, live API keys and identities of these users, in three queries. */
  private async related(users: User[]) {
    const ids = users.map((u) => u.id);
    const [sessions, keys, identities] = await Promise.all([
      this.sessions.listForUsers(ids),
      this.apiKeys.listActiveForUsers(ids),
      this.users.identitiesOfUsers(ids),
    ]);
    return (userId: string) => ({
      sessions: sessions.filter((s) => s.userId === userId),
      keys: keys.filter((k) => k.userId === userId),
      identities: identities.filter((i) => i.userId === userId),
    });
  }
}

export function principalNotFound(id: string): AppError {
  return new AppError('USER_NOT_FOUND', `No such Principal ${id}`);
}
