import { isUniqueViolation } from '../common/errors/database-errors';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { RevocationFeed } from '../revocation-feed/revocation-feed.service';
import { AuditService } from '../audit/audit.service';
import { createHash, randomUUID } from 'node:crypto';
import { Brackets, In, Repository, type SelectQueryBuilder } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { isKnownRole, Role } from '../common/auth/scopes';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PasswordHasher } from './password-hasher';
import { Identity } from './identity.entity';
import { User, UserKind, UserStatus } from './user.entity';
import { UserStateCache, userState } from './user-state.cache';
import { inTransaction } from '../database/transactions';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface CreateUserInput {
  username: string;
  password?: string;
  roles?: string[];
  email?: string | null;
  displayName?: string | null;
  /** Default `user`; a `service` principal has no password. */
  kind?: UserKind;
  /** Default: a new random UUID. */
  id?: string;
}

/** Filters and paging of the administrators' user list. */
export interface UserListQuery {
  status?: UserStatus;
  role?: string;
  kind?: UserKind;
  /** Case-insensitive substring of the username, display name or email. */
  name?: string;
  offset: number;
  limit: number;
}

/** Changes that could leave no active administrator check that one remains (409 LAST_ADMIN). */
export interface AdminSafety {
  /** The operator CLI (break-glass) may remove the last administrator; HTTP callers may not. */
  allowRemovingLastAdmin?: boolean;
}

/**
 * Something that holds credentials of users and marks them revoked when a user revokes
 * everything (sessions, API keys). Those modules register at start: users/ imports neither.
 */
export interface CredentialRevoker {
  /** The key of its count in the revoke-all result, e.g. `sessions`. */
  readonly name: string;
  revokeAllOf(userId: string): Promise<number>;
}

export interface RevokeAllResult {
  /** The user's new epoch. */
  epoch: number;
  /** How many live credentials of each kind were marked revoked (`sessions`, `api_keys`, …). */
  revoked: Record<string, number>;
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  private readonly revokers: CredentialRevoker[] = [];
  /** Changes that may remove an administrator, one at a time in this process (guardLastAdmin). */
  private adminChanges: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Identity) private readonly identities: Repository<Identity>,
    private readonly hasher: PasswordHasher,
    private readonly states: UserStateCache,
    private readonly audit: AuditService,
    private readonly feed: RevocationFeed,
  ) {}

  /** Usernames are case-insensitive: stored and compared in lower case. */
  static normalizeUsername(username: string): string {
    return username.trim().toLowerCase();
  }

  async create(input: CreateUserInput): Promise<User> {
    const username = UsersService.normalizeUsername(input.username);
    if (!USERNAME_PATTERN.test(username)) {
      throw new AppError(
        'VALIDATION_FAILED',
        'A username is 1 to 64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit.',
      );
    }
    const roles = checkRoles(input.roles ?? [Role.User]);
    const kind = input.kind ?? 'user';
    if (kind === 'service' && input.password !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'A service principal has no password: it authenticates with API keys only.');
    }
    if (input.password !== undefined) this.checkPasswordPolicy(input.password, username);
    if (await this.users.exists({ where: { username } })) {
      throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`);
    }
    const user = this.users.create({
      id: input.id ?? randomUUID(),
      username,
      email: input.email ?? null,
      displayName: input.displayName ?? null,
      passwordHash: input.password !== undefined ? await this.hasher.hash(input.password) : null,
      roles,
      groups: [],
      status: 'active',
      kind,
      epoch: 0,
      lastLoginAt: null,
    });
    try {
      // A copy: on PostgreSQL insert() writes the RETURNING values (raw, e.g. groups as the
      // string "[]") back into the object it is given.
      await this.users.insert({ ...user });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`);
      }
      throw error;
    }
    this.logger.log(`user created: ${user.id} (${username}) kind=${kind} roles=${roles.join(',')}`);
    await this.audit.record('user.created', {
      subject: { type: 'user', id: user.id, label: username },
      userId: user.id,
      details: { roles, password: user.passwordHash !== null, ...(kind !== 'user' ? { kind } : {}) },
    });
    const { passwordHash: _omit, ...withoutHash } = user;
    return withoutHash as User;
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    return user;
  }

  findByUsername(username: string): Promise<User | null> {
    return this.users.findOne({ where: { username: UsersService.normalizeUsername(username) } });
  }

  /**
   * A service principal (Tiled's `POST /auth/principal?role=`): kind `service`, the given role,
   * no password, no identity, named `service-<its id in hex>`.
   */
  async createService(role: string): Promise<User> {
    const id = randomUUID();
    return this.create({ id, username: `service-${id.replace(/-/g, '')}`, roles: [role], kind: 'service' });
  }

  list(): Promise<User[]> {
    return this.users.find({ order: { createdAt: 'ASC' } });
  }

  /** One page of users, oldest first (then by username), with the number of matches. */
  async listPage(query: UserListQuery): Promise<{ users: User[]; total: number }> {
    const qb = this.users.createQueryBuilder('u');
    if (query.status) qb.andWhere('u.status = :status', { status: query.status });
    if (query.kind) qb.andWhere('u.kind = :kind', { kind: query.kind });
    if (query.role) qb.andWhere('u.roles LIKE :role', { role: `%${JSON.stringify(query.role)}%` });
    if (query.name) {
      const pattern = `%${query.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((w) =>
          ['u.username', 'u.display_name', 'u.email'].forEach((column) => w.orWhere(`LOWER(${column}) LIKE :pattern ESCAPE '\\'`, { pattern })),
        ),
      );
    }
    const [users, total] = await qb.orderBy('u.created_at', 'ASC').addOrderBy('u.username', 'ASC').skip(query.offset).take(query.limit).getManyAndCount();
    return { users, total };
  }

  /** The users with these ids (any order; unknown ids are left out). */
  findByIds(ids: string[]): Promise<User[]> {
    return ids.length ? this.users.find({ where: { id: In(ids) } }) : Promise.resolve([]);
  }

  count(): Promise<number> {
    return this.users.count();
  }

  /**
   * The user when username and password match an active account, else null. An unknown user,
   * a disabled one and a wrong password cost the same (one argon2 verification) and look the same.
   */
  async authenticate(username: string, password: string): Promise<User | null> {
    const normalized = UsersService.normalizeUsername(username);
    const user =
      USERNAME_PATTERN.test(normalized) && password.length <= MAX_PASSWORD_LENGTH
        ? await this.users.findOne({ where: { username: normalized }, select: this.selectWithHash() })
        : null;
    const ok = await this.hasher.verify(user?.passwordHash, password.slice(0, MAX_PASSWORD_LENGTH));
    if (!ok || !user || user.status !== 'active' || user.kind !== 'user') return null;

    const now = new Date();
    const update: Partial<User> = { lastLoginAt: now };
    if (this.hasher.needsRehash(user.passwordHash!)) update.passwordHash = await this.hasher.hash(password);
    await this.users.update({ id: user.id }, update);
    const { passwordHash: _omit, ...rest } = user;
    return { ...rest, lastLoginAt: now } as User;
  }

  /** Checks the current password, then sets a new one. */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.users.findOne({ where: { id: userId }, select: this.selectWithHash() });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    if (!(await this.hasher.verify(user.passwordHash, currentPassword.slice(0, MAX_PASSWORD_LENGTH)))) {
      throw new AppError('PASSWORD_INCORRECT', 'The current password is not correct.');
    }
    await this.setPassword(user, newPassword);
  }

  async getByUsername(username: string): Promise<User> {
    const user = await this.findByUsername(username);
    if (!user) throw new AppError('USER_NOT_FOUND', `No user "${UsersService.normalizeUsername(username).slice(0, 64)}".`);
    return user;
  }

  async setPasswordByUsername(username: string, newPassword: string): Promise<User> {
    const user = await this.getByUsername(username);
    await this.setPassword(user, newPassword);
    return user;
  }

  /**
   * The user behind an external identity, created on first sight (just-in-time provisioning)
   * with role `user` and no password. The username comes from the IdP's claim when it is free
   * and valid, else from the provider name and a digest of the subject. An identity is never
   * attached to an existing user by a matching username or email (that would hand the account
   * to whoever controls that name at the IdP): a taken username just means another one. 403
   * SERVICE_PRINCIPAL_NO_LOGIN for an identity of a service principal.
   */
  async findOrCreateByIdentity(
    provider: string,
    issuer: string,
    subject: string,
    usernameHint: () => Promise<string | undefined>,
    groups?: readonly string[],
  ): Promise<User> {
    const known = await this.identities.findOne({ where: { issuer, subject } });
    if (known) {
      const user = await this.getById(known.userId);
      // Nothing links an identity to a service principal; one from before that rule still logs nobody in.
      assertCanLogIn(user);
      await this.identities.update({ id: known.id }, { lastLoginAt: new Date() });
      return groups && !sameSet(user.groups, groups) ? (await this.setGroups(user.id, groups, `the identity provider ${provider}`)).user : user;
    }
    const preferredUsername = await usernameHint();
    const digest = createHash('sha256').update(`${issuer}\0${subject}`).digest('hex').slice(0, 10);
    const candidates = [preferredUsername, preferredUsername && `${preferredUsername}-${provider}`, `${provider}-${digest}`]
      .filter((c): c is string => typeof c === 'string' && c.length > 0)
      .map((c) => UsersService.normalizeUsername(c).replace(/[^a-z0-9._-]/g, '-').slice(0, 64))
      .filter((c) => USERNAME_PATTERN.test(c));
    for (const username of candidates) {
      if (await this.users.exists({ where: { username } })) continue;
      const user = await this.create({ username, roles: [Role.User] }).catch((e: unknown) => {
        if (e instanceof AppError && e.code === 'USERNAME_TAKEN') return undefined;
        throw e;
      });
      if (!user) continue;
      try {
        await this.identities.insert({ id: randomUUID(), userId: user.id, provider, issuer, subject, createdAt: new Date(), lastLoginAt: new Date() });
      } catch (error) {
        // Another request linked the same identity first: use theirs, drop ours.
        await this.users.delete({ id: user.id });
        const winner = await this.identities.findOne({ where: { issuer, subject } });
        if (winner) return this.getById(winner.userId);
        throw error;
      }
      this.logger.log(`user ${user.id} (${username}) created for ${provider} subject at ${issuer}`);
      return groups?.length ? (await this.setGroups(user.id, groups, `the identity provider ${provider}`)).user : user;
    }
    throw new AppError('CONFLICT', 'Could not choose a username for this identity.');
  }

  /**
   * Links an external identity to an existing user: the last step of the interactive link flow
   * (the user confirmed it from their browser session), never a side effect of a login. 409
   * IDENTITY_ALREADY_LINKED when the identity belongs to anyone (this user included: nothing is
   * re-linked), 403 for a service principal. Records `identity.linked` (actor: the request's).
   */
  async linkIdentity(userId: string, provider: string, issuer: string, subject: string): Promise<Identity> {
    const user = await this.getById(userId);
    assertCanLogIn(user);
    const alreadyLinked = () => new AppError('IDENTITY_ALREADY_LINKED', 'This identity provider account is already linked to a Latchkey user.');
    if (await this.identities.exists({ where: { issuer, subject } })) throw alreadyLinked();
    const now = new Date();
    const identity: Identity = { id: randomUUID(), userId, provider, issuer, subject, createdAt: now, lastLoginAt: null };
    try {
      await this.identities.insert({ ...identity });
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyLinked();
      throw error;
    }
    this.logger.warn(`identity linked: user ${userId} ← ${provider} subject at ${issuer}`);
    await this.audit.record('identity.linked', {
      subject: userSubject(user),
      userId,
      details: { identity: identity.id, provider, issuer, subject },
    });
    return identity;
  }

  /** The user's identity `identityId`; 404 IDENTITY_NOT_FOUND when it is not theirs. */
  async identityOf(userId: string, identityId: string): Promise<Identity> {
    const identity = await this.identities.findOne({ where: { id: identityId, userId } });
    if (!identity) throw new AppError('IDENTITY_NOT_FOUND', 'No such linked identity.');
    return identity;
  }

  /**
   * Unlinks one of the user's identities (by the user or an administrator: the actor is the
   * request's). 404 when it is not the user's; 409 LAST_LOGIN_METHOD when it is their last one
   * and they have no password (they could never log in again: disable or delete them instead).
   * The check and the delete are one transaction (`inTransaction`: one at a time on SQLite), the
   * user's row locked on PostgreSQL, so two concurrent unlinks cannot both pass.
   * Records `identity.unlinked`.
   */
  async unlinkIdentity(userId: string, identityId: string): Promise<Identity> {
    const { user, identity } = await inTransaction(this.users.manager.connection, async (em) => {
      const users = em.getRepository(User);
      const identities = em.getRepository(Identity);
      const lock = users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.id = :id', { id: userId });
      if (em.connection.options.type === 'postgres') lock.setLock('pessimistic_write');
      const owner = await lock.getOne();
      if (!owner) throw new AppError('USER_NOT_FOUND', 'No such user.');
      const found = await identities.findOne({ where: { id: identityId, userId } });
      if (!found) throw new AppError('IDENTITY_NOT_FOUND', 'No such linked identity.');
      if (!owner.passwordHash && (await identities.count({ where: { userId } })) <= 1) {
        throw new AppError(
          'LAST_LOGIN_METHOD',
          'This is the only way this account can log in (it has no password): link another identity provider account first.',
        );
      }
      await identities.delete({ id: found.id });
      return { user: owner, identity: found };
    });
    this.logger.warn(`identity unlinked: user ${userId} ✕ ${identity.provider} subject at ${identity.issuer}`);
    await this.audit.record('identity.unlinked', {
      subject: userSubject(user),
      userId,
      details: { identity: identity.id, provider: identity.provider, issuer: identity.issuer, subject: identity.subject },
    });
    return identity;
  }

  /** The identity (issuer, subject), whoever it belongs to. */
  findIdentity(issuer: string, subject: string): Promise<Identity | null> {
    return this.identities.findOne({ where: { issuer, subject } });
  }

  /** Whether the user can log in with a password (users made for an IdP identity cannot). */
  async hasPassword(userId: string): Promise<boolean> {
    const row = await this.users.findOne({ where: { id: userId }, select: { id: true, passwordHash: true } });
    return !!row?.passwordHash;
  }

  identitiesOf(userId: string): Promise<Identity[]> {
    return this.identities.find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** The external identities of several users, oldest first. */
  identitiesOfUsers(userIds: string[]): Promise<Identity[]> {
    return userIds.length ? this.identities.find({ where: { userId: In(userIds) }, order: { createdAt: 'ASC' } }) : Promise.resolve([]);
  }

  /** Which of these users can log in with a password. */
  async withPassword(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.users
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .where('u.id IN (:...ids) AND u.password_hash IS NOT NULL', { ids: userIds })
      .getRawMany<{ id: string }>();
    return new Set(rows.map((r) => r.id));
  }

  /** Current epoch, status and roles (cached); what every credential verifier checks. */
  state(userId: string) {
    return this.states.get(userId);
  }

  /** Sessions and API keys register here when their modules start (see CredentialRevoker). */
  registerRevoker(revoker: CredentialRevoker): void {
    if (this.revokers.some((r) => r.name === revoker.name)) throw new Error(`credential revoker ${revoker.name} registered twice`);
    this.revokers.push(revoker);
  }

  /**
   * Revoke everything, the one implementation behind `POST /users/me/revoke-all`,
   * `POST /admin/users/{id}/revoke-all` and `user:revoke-all`: bumps the epoch (which alone
   * stops every credential), then marks the user's live sessions and API keys revoked so that
   * listings show it. Deploy tokens belong to plugins and are not touched.
   */
  async revokeAll(userId: string): Promise<RevokeAllResult> {
    const epoch = await this.bumpEpoch(userId);
    const counts = await Promise.all(this.revokers.map(async (r) => [r.name, await r.revokeAllOf(userId)] as const));
    return { epoch, revoked: Object.fromEntries(counts) };
  }

  /**
   * A user's epoch, status or roles changed: every verifier learns it here at once (with Redis, on
   * every instance), and services that verify tokens themselves from the revocation feed.
   */
  private async stateChanged(user: User, toFeed = true): Promise<void> {
    await this.states.set(user.id, userState(user));
    if (toFeed) await this.feed.record({ kind: 'user', sub: user.id, epoch: user.epoch, status: user.status, roles: user.roles });
  }

  /**
   * Bumps the user's epoch, so every access token, session and API key minted before now stops
   * working (every verifier compares epochs). Applies at once on this instance and, with Redis,
   * on every other one (without: within USER_CACHE_TTL). Returns the new epoch. `revokeAll`
   * also marks them revoked.
   */
  async bumpEpoch(userId: string): Promise<number> {
    await this.users
      .createQueryBuilder()
      .update(User)
      .set({ epoch: () => 'epoch + 1' })
      .where('id = :id', { id: userId })
      .execute();
    const user = await this.getById(userId);
    await this.stateChanged(user);
    this.logger.warn(`revoke-all: user ${userId} epoch is now ${user.epoch}`);
    await this.audit.record('user.revoke_all', { subject: userSubject(user), userId, details: { epoch: user.epoch } });
    return user.epoch;
  }

  /**
   * Disables or re-enables an account; a disabled user's credentials of every kind are refused.
   * Disabling the last active administrator is a 409 (unless `allowRemovingLastAdmin`).
   */
  async setStatus(userId: string, status: UserStatus, safety: AdminSafety = {}): Promise<User> {
    await this.guardLastAdmin(userId, safety, (repo) => repo.update({ id: userId }, { status }));
    const user = await this.getById(userId);
    await this.stateChanged(user);
    this.logger.warn(`user ${userId} is now ${status}`);
    await this.audit.record(status === 'disabled' ? 'user.disabled' : 'user.enabled', { subject: userSubject(user), userId });
    return user;
  }

  /**
   * Replaces the user's roles; records `user.roles_changed` (before/after) when they differ.
   * Applies at once on this instance (elsewhere: at once with Redis, else within USER_CACHE_TTL) to API keys, browser
   * sessions and, for a role taken away, access tokens. Dropping the admin role of the last
   * active administrator is a 409 (unless `allowRemovingLastAdmin`).
   */
  async setRoles(userId: string, roles: string[], safety: AdminSafety = {}): Promise<{ before: string[]; user: User }> {
    const after = checkRoles(roles);
    const before = await this.guardLastAdmin(userId, safety, async (repo, current) => {
      await repo.update({ id: userId }, { roles: after });
      return current.roles;
    });
    const user = await this.getById(userId);
    await this.stateChanged(user, !sameSet(before, after));
    if (!sameSet(before, after)) {
      this.logger.warn(`roles of user ${userId} changed: ${before.join(',') || '-'} → ${after.join(',') || '-'}`);
      await this.audit.record('user.roles_changed', { subject: userSubject(user), userId, details: { before, after } });
    }
    return { before, user };
  }

  /**
   * Replaces the user's groups (administrators, the CLI, or an IdP's groups claim at login);
   * records `user.groups_changed` when they differ. Carried in the user's next access token and in
   * introspection; API keys and browser sessions see them at once (the user-state cache).
   */
  async setGroups(userId: string, groups: readonly string[], by?: string): Promise<{ before: string[]; user: User }> {
    const after = checkGroups(groups);
    const current = await this.getById(userId);
    if (sameSet(current.groups, after)) return { before: current.groups, user: current };
    await this.users.update({ id: userId }, { groups: after });
    const user = await this.getById(userId);
    await this.stateChanged(user, false);
    this.logger.log(`groups of user ${userId} changed${by ? ` by ${by}` : ''}: ${current.groups.join(',') || '-'} → ${after.join(',') || '-'}`);
    await this.audit.record('user.groups_changed', { subject: userSubject(user), userId, details: { before: current.groups, after, ...(by ? { by } : {}) } });
    return { before: current.groups, user };
  }

  /**
   * Deletes the user and, by cascade, their sessions, API keys, identities and maintainerships;
   * plugins and deploy tokens they made stay (creator set to null). Records `user.deleted`.
   * Deleting the last active administrator is a 409 (unless `allowRemovingLastAdmin`).
   */
  async delete(userId: string, safety: AdminSafety = {}): Promise<User> {
    const user = await this.guardLastAdmin(userId, safety, async (repo, current) => {
      await repo.delete({ id: userId });
      return current;
    });
    await this.states.setGone(userId);
    await this.feed.record({ kind: 'user', sub: userId, epoch: user.epoch, status: 'deleted', roles: [] });
    this.logger.warn(`user deleted: ${userId} (${user.username})`);
    await this.audit.record('user.deleted', {
      subject: userSubject(user),
      userId,
      details: { roles: user.roles, ...(user.kind !== 'user' ? { kind: user.kind } : {}) },
    });
    return user;
  }

  /** Active administrators who can log in (service principals do not count). */
  countActiveAdmins(): Promise<number> {
    return activeAdmins(this.users.createQueryBuilder('u')).getCount();
  }

  /**
   * Runs `change` on one user inside a transaction that refuses (409 LAST_ADMIN, rolled back) to
   * leave no active administrator when the user was one. Concurrent changes are serialised: in
   * this process by a queue, across instances on PostgreSQL by locking the administrators' rows
   * (two admins demoting each other at once cannot both succeed). 404 for an unknown user.
   */
  private guardLastAdmin<T>(userId: string, safety: AdminSafety, change: (repo: Repository<User>, current: User) => Promise<T>): Promise<T> {
    const run = () =>
      inTransaction(this.users.manager.connection, async (em) => {
        const repo = em.getRepository(User);
        if (em.connection.options.type === 'postgres') {
          await activeAdmins(repo.createQueryBuilder('u'))
            .orWhere('u.id = :id', { id: userId })
            .select('u.id')
            .setLock('pessimistic_write')
            .getMany();
        }
        const current = await repo.findOne({ where: { id: userId } });
        if (!current) throw new AppError('USER_NOT_FOUND', 'No such user.');
        const result = await change(repo, current);
        if (!safety.allowRemovingLastAdmin && isActiveAdmin(current) && (await activeAdmins(repo.createQueryBuilder('u')).getCount()) === 0) {
          throw new AppError('LAST_ADMIN', `${current.username} is the last active administrator; make someone else an administrator first.`);
        }
        return result;
      });
    const queued = this.adminChanges.then(run, run);
    this.adminChanges = queued.catch(() => undefined);
    return queued;
  }

  checkPasswordPolicy(password: string, username: string): void {
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new AppError(
        'PASSWORD_POLICY',
        `A password is ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long.`,
      );
    }
    if (password.toLowerCase() === username.toLowerCase()) {
      throw new AppError('PASSWORD_POLICY', 'The password must not be the username.');
    }
  }

  private async setPassword(user: User, newPassword: string): Promise<void> {
    if (user.kind !== 'user') {
      throw new AppError('VALIDATION_FAILED', 'A service principal has no password: it authenticates with API keys only.');
    }
    this.checkPasswordPolicy(newPassword, user.username);
    await this.users.update({ id: user.id }, { passwordHash: await this.hasher.hash(newPassword) });
    this.logger.log(`password changed for user ${user.id}`);
    await this.audit.record('user.password_changed', { subject: userSubject(user), userId: user.id });
  }

  private selectWithHash() {
    return {
      id: true,
      username: true,
      email: true,
      displayName: true,
      passwordHash: true,
      roles: true,
      groups: true,
      status: true,
      kind: true,
      epoch: true,
      createdAt: true,
      updatedAt: true,
      lastLoginAt: true,
    } as const;
  }
}

/**
 * 403 SERVICE_PRINCIPAL_NO_LOGIN unless `user` is a person: a service principal never logs in
 * (password, browser, IdP, device code), never gets a session and never has an IdP account linked.
 */
export function assertCanLogIn(user: Pick<User, 'kind'>): void {
  if (user.kind !== 'user') {
    throw new AppError('SERVICE_PRINCIPAL_NO_LOGIN', 'A service principal cannot log in or link an identity provider account: it authenticates with API keys only.');
  }
}

function userSubject(user: { id: string; username: string }) {
  return { type: 'user', id: user.id, label: user.username };
}

/** Distinct known roles, in the given order; 422 naming any unknown one. */
function checkRoles(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)];
  const unknown = unique.filter((r) => !isKnownRole(r));
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `Unknown roles: ${unknown.join(', ')}`);
  return unique;
}

/** Groups: 0-100 distinct names of 1-128 visible characters (no commas: the CLI separates by them). */
function checkGroups(groups: readonly string[]): string[] {
  const unique = [...new Set(groups)];
  const bad = unique.filter((g) => typeof g !== 'string' || !/^[^\s,][^,]{0,127}$/.test(g) || /[\x00-\x1f]/.test(g));
  if (bad.length > 0) throw new AppError('VALIDATION_FAILED', `Invalid group names: ${bad.slice(0, 5).join(', ')} (1-128 characters, no commas).`);
  if (unique.length > 100) throw new AppError('VALIDATION_FAILED', 'A user has at most 100 groups.');
  return unique.sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function isActiveAdmin(user: Pick<User, 'status' | 'kind' | 'roles'>): boolean {
  return user.status === 'active' && user.kind === 'user' && user.roles.includes(Role.Admin);
}

/** The rows `isActiveAdmin` accepts (roles are JSON text: `["user","admin"]`). */
function activeAdmins(qb: SelectQueryBuilder<User>): SelectQueryBuilder<User> {
  return qb.where(
    new Brackets((w) =>
      w.where("u.status = 'active' AND u.kind = 'user' AND u.roles LIKE :adminRole", { adminRole: `%${JSON.stringify(Role.Admin)}%` }),
    ),
  );
}
