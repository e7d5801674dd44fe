import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { createHash, randomUUID } from 'node:crypto';
import { QueryFailedError, Repository } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { KNOWN_ROLES, Role } from '../common/auth/scopes';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PasswordHasher } from './password-hasher';
import { Identity } from './identity.entity';
import { User, UserStatus } from './user.entity';
import { UserStateCache, userState } from './user-state.cache';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface CreateUserInput {
  username: string;
  password?: string;
  roles?: string[];
  email?: string | null;
  displayName?: string | null;
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Identity) private readonly identities: Repository<Identity>,
    private readonly hasher: PasswordHasher,
    private readonly states: UserStateCache,
    private readonly audit: AuditService,
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
    const roles = [...new Set(input.roles ?? [Role.User])];
    const unknown = roles.filter((r) => !KNOWN_ROLES.includes(r));
    if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `Unknown roles: ${unknown.join(', ')}`);
    if (input.password !== undefined) this.checkPasswordPolicy(input.password, username);
    if (await this.users.exists({ where: { username } })) {
      throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`);
    }
    const user = this.users.create({
      id: randomUUID(),
      username,
      email: input.email ?? null,
      displayName: input.displayName ?? null,
      passwordHash: input.password !== undefined ? await this.hasher.hash(input.password) : null,
      roles,
      groups: [],
      status: 'active',
      epoch: 0,
      lastLoginAt: null,
    });
    try {
      // A copy: on PostgreSQL insert() writes the RETURNING values (raw, e.g. groups as the
      // string "[]") back into the object it is given.
      await this.users.insert({ ...user });
    } catch (error) {
      if (error instanceof QueryFailedError && /unique|duplicate/i.test(error.message)) {
        throw new AppError('USERNAME_TAKEN', `The username "${username}" is taken.`);
      }
      throw error;
    }
    this.logger.log(`user created: ${user.id} (${username}) roles=${roles.join(',')}`);
    await this.audit.record('user.created', {
      subject: { type: 'user', id: user.id, label: username },
      userId: user.id,
      details: { roles, password: user.passwordHash !== null },
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

  list(): Promise<User[]> {
    return this.users.find({ order: { createdAt: 'ASC' } });
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
    if (!ok || !user || user.status !== 'active') return null;

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
   * and valid, else from the provider name and a digest of the subject.
   */
  async findOrCreateByIdentity(
    provider: string,
    issuer: string,
    subject: string,
    usernameHint: () => Promise<string | undefined>,
  ): Promise<User> {
    const known = await this.identities.findOne({ where: { issuer, subject } });
    if (known) {
      await this.identities.update({ id: known.id }, { lastLoginAt: new Date() });
      return this.getById(known.userId);
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
      return user;
    }
    throw new AppError('CONFLICT', 'Could not choose a username for this identity.');
  }

  /**
   * Links an external identity to an existing user (e.g. one who asks for an offline token of an
   * IdP account not linked yet). 409 when that identity already belongs to someone else.
   */
  async linkIdentity(userId: string, provider: string, issuer: string, subject: string): Promise<void> {
    const known = await this.identities.findOne({ where: { issuer, subject } });
    if (known && known.userId !== userId) {
      throw new AppError('IDENTITY_LINKED_ELSEWHERE', 'This identity provider account belongs to another Latchkey user.');
    }
    const now = new Date();
    if (known) await this.identities.update({ id: known.id }, { lastLoginAt: now });
    else await this.identities.insert({ id: randomUUID(), userId, provider, issuer, subject, createdAt: now, lastLoginAt: now });
  }

  /** Whether the user can log in with a password (users made for an IdP identity cannot). */
  async hasPassword(userId: string): Promise<boolean> {
    const row = await this.users.findOne({ where: { id: userId }, select: { id: true, passwordHash: true } });
    return !!row?.passwordHash;
  }

  identitiesOf(userId: string): Promise<Identity[]> {
    return this.identities.find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  /** Current epoch, status and roles (cached); what every credential verifier checks. */
  state(userId: string) {
    return this.states.get(userId);
  }

  /**
   * "Revoke everything": bumps the user's epoch, so every access token, session and API key
   * minted before now stops working (every verifier compares epochs). Applies at once on this
   * instance, within USER_CACHE_TTL on others. Returns the new epoch.
   */
  async bumpEpoch(userId: string): Promise<number> {
    await this.users
      .createQueryBuilder()
      .update(User)
      .set({ epoch: () => 'epoch + 1' })
      .where('id = :id', { id: userId })
      .execute();
    const user = await this.getById(userId);
    this.states.set(userId, userState(user));
    this.logger.warn(`revoke-all: user ${userId} epoch is now ${user.epoch}`);
    await this.audit.record('user.revoke_all', { subject: userSubject(user), userId, details: { epoch: user.epoch } });
    return user.epoch;
  }

  /** Disables or re-enables an account; a disabled user's credentials of every kind are refused. */
  async setStatus(userId: string, status: UserStatus): Promise<User> {
    await this.users.update({ id: userId }, { status });
    const user = await this.getById(userId);
    this.states.set(userId, userState(user));
    this.logger.warn(`user ${userId} is now ${status}`);
    await this.audit.record(status === 'disabled' ? 'user.disabled' : 'user.enabled', { subject: userSubject(user), userId });
    return user;
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
      epoch: true,
      createdAt: true,
      updatedAt: true,
      lastLoginAt: true,
    } as const;
  }
}

function userSubject(user: { id: string; username: string }) {
  return { type: 'user', id: user.id, label: user.username };
}
