import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { BUILT_IN_ROLES, ROLE_NAME, ROLE_SCOPES, SCOPE_NAME, setCustomRoles } from '../common/auth/scopes';
import { AppError } from '../common/errors/app-error';
import { PeriodicJob } from '../common/periodic-job';
import { RedisService } from '../common/redis/redis.service';
import { AppConfig, InjectConfig } from '../config/app.config';
import { User } from '../users/user.entity';
import { CustomRole } from './custom-role.entity';

const CHANNEL = 'roles-changed';
/** Without Redis, another instance's change is picked up within this time. */
const RELOAD_MS = 30_000;
const MAX_SCOPES = 100;
/** What the admin role grants and the user role does not (administration, principals, metrics, webhooks, introspection). */
const ADMIN_ONLY_SCOPES: readonly string[] = ROLE_SCOPES.admin.filter((s) => !ROLE_SCOPES.user.includes(s));

export interface RoleView {
  name: string;
  description: string | null;
  scopes: string[];
  builtIn: boolean;
}

/**
 * Roles: the built-in ones (`user`, `admin`, `introspector`, in code) and the custom ones that
 * administrators make (name → scopes, table `roles`). Custom roles are held in memory
 * (`setCustomRoles`: every scope check reads them without I/O), loaded at start, reloaded at once
 * after a change here and, through Redis, on every instance (without Redis: within 30 s).
 * A user gets a custom role like any other (`PUT /admin/users/{id}/roles`); its scopes are in the
 * user's next access token and in their API keys at once. A role that someone holds cannot be
 * deleted (409 `ROLE_IN_USE`); built-in names cannot be taken.
 */
@Injectable()
export class RolesService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RolesService.name);
  private readonly reloadJob = new PeriodicJob('reloading custom roles', this.logger, () => this.reload());

  constructor(
    @InjectRepository(CustomRole) private readonly roles: Repository<CustomRole>,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
    @Optional() private readonly redis?: RedisService,
  ) {
    if (redis?.enabled) {
      redis.subscribe(CHANNEL, () => void this.reload().catch((error: Error) => this.logger.warn(`reloading custom roles failed: ${error.message}`)));
      redis.onReconnect(() => void this.reload().catch(() => undefined));
    }
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  onApplicationBootstrap(): void {
    if (this.config.env !== 'test') this.reloadJob.start(RELOAD_MS);
  }

  onApplicationShutdown(): void {
    this.reloadJob.stop();
  }

  async list(): Promise<RoleView[]> {
    const custom = await this.roles.find({ order: { name: 'ASC' } });
    return [
      ...BUILT_IN_ROLES.map((name) => ({ name, description: null, scopes: [...ROLE_SCOPES[name]], builtIn: true })),
      ...custom.map((r) => ({ name: r.name, description: r.description, scopes: r.scopes, builtIn: false })),
    ];
  }

  /** Creates the custom role or replaces its scopes and description. */
  async save(name: string, input: { scopes: string[]; description?: string | null }, actor: { userId?: string }): Promise<RoleView> {
    if (!ROLE_NAME.test(name)) throw new AppError('VALIDATION_FAILED', `A role name is 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter: ${name.slice(0, 64)}`);
    if (BUILT_IN_ROLES.includes(name)) throw new AppError('BUILT_IN_ROLE', `"${name}" is a built-in role: it cannot be changed or deleted.`);
    const scopes = [...new Set(input.scopes)].sort();
    const bad = scopes.filter((s) => !SCOPE_NAME.test(s) || s.length > 64);
    if (bad.length > 0) throw new AppError('VALIDATION_FAILED', `Invalid scope names: ${bad.slice(0, 5).join(', ')} (lower case, e.g. notes:read).`);
    if (scopes.length === 0 || scopes.length > MAX_SCOPES) throw new AppError('VALIDATION_FAILED', `A role grants 1 to ${MAX_SCOPES} scopes.`);
    // Administration stays with the admin role (which needs a recent login to grant), never a custom role.
    const administrative = scopes.filter((s) => ADMIN_ONLY_SCOPES.includes(s));
    if (administrative.length > 0) {
      throw new AppError('VALIDATION_FAILED', `Scopes only the admin role grants cannot be in a custom role: ${administrative.join(', ')}. Grant the admin role instead.`);
    }
    const before = await this.roles.findOne({ where: { name } });
    await this.roles.save({ name, scopes, description: input.description ?? before?.description ?? null });
    await this.changed();
    await this.audit.record('role.saved', { subject: { type: 'role', id: name }, userId: actor.userId, details: { before: before?.scopes ?? null, after: scopes } });
    this.logger.warn(`custom role ${name} saved: ${scopes.join(' ')}`);
    return { name, description: input.description ?? before?.description ?? null, scopes, builtIn: false };
  }

  async delete(name: string, actor: { userId?: string }): Promise<void> {
    if (BUILT_IN_ROLES.includes(name)) throw new AppError('BUILT_IN_ROLE', `"${name}" is a built-in role: it cannot be changed or deleted.`);
    const role = await this.roles.findOne({ where: { name } });
    if (!role) throw new AppError('ROLE_NOT_FOUND', `No custom role ${name.slice(0, 64)}.`);
    const candidates = await this.users.createQueryBuilder('u').select(['u.id', 'u.roles']).where('u.roles LIKE :pattern', { pattern: `%"${name}"%` }).getMany();
    const holders = candidates.filter((u) => u.roles.includes(name)).length;
    if (holders > 0) throw new AppError('ROLE_IN_USE', `${holders} user(s) hold the role ${name}: take it from them first.`);
    await this.roles.delete({ name });
    await this.changed();
    await this.audit.record('role.deleted', { subject: { type: 'role', id: name }, userId: actor.userId, details: { scopes: role.scopes } });
  }

  /** Loads the custom roles into the scope table every check reads. */
  async reload(): Promise<void> {
    const custom = await this.roles.find();
    setCustomRoles(new Map(custom.map((r) => [r.name, Object.freeze([...r.scopes])] as const)));
  }

  private async changed(): Promise<void> {
    await this.reload();
    if (this.redis?.enabled) await this.redis.publish(CHANNEL, String(Date.now()));
  }
}
