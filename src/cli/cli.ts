/**
 * Operator CLI: `npm run cli -- <command>` (entry point: src/cli.ts).
 *   user:create <username> [--admin] [--email <e>] [--display-name <n>]   password from stdin
 *   user:set-password <username>                                           password from stdin
 *   user:list
 *   user:disable <username> | user:enable <username> | user:revoke-all <username>
 *   user:grant-admin <username>
 *   audit:tail [--limit N]
 *   user:set-roles <username> --roles a,b | user:set-groups <username> --groups a,b
 *   role:list | role:set <name> --scopes a,b [--description d] | role:delete <name>
 *   keys:generate                                                          no database
 *   keys:generate-signing                                                  no database
 * Passwords are read from standard input (a prompt without echo on a terminal, the first line
 * when piped), never from argv, where they would land in shell history and `ps`.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuditModule } from '../audit/audit.module';
import { RevocationFeedModule } from '../revocation-feed/revocation-feed.module';
import { RolesModule } from '../roles/roles.module';
import { RolesService } from '../roles/roles.service';
import { RedisModule } from '../common/redis/redis.module';
import type { AuditEvent } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { AuthCoreModule } from '../common/auth/auth-core.module';
import { AppError } from '../common/errors/app-error';
import { AppConfigModule } from '../config/config.module';
import { loadConfig } from '../config/configuration';
import { ConfigError } from '../config/env.validation';
import { DatabaseModule } from '../database/database.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { Role } from '../common/auth/scopes';
import { generateSigningKey, generateTokenSigningKey } from './keys';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { CliInputError, readPassword } from './read-password';

@Module({ imports: [AppConfigModule, DatabaseModule, AuthCoreModule, RedisModule, AuditModule, RevocationFeedModule, RolesModule, UsersModule, SessionsModule, ApiKeysModule] })
class CliModule {}

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `Usage: npm run cli -- <command>

  user:create <username> [--admin] [--email <email>] [--display-name <name>]
      Create a user. The password is read from standard input.
  user:set-password <username>
      Set a user's password (read from standard input) and end all their sessions.
  user:list
      List users.
  user:disable <username>
      Refuse every credential of the user (tokens, sessions, API keys) until re-enabled.
  user:enable <username>
      Accept the user's credentials again.
  user:revoke-all <username>
      Revoke everything the user holds (bumps their epoch): they must log in again.
  user:grant-admin <username>
      Add the admin role to a user (recorded in the audit log as done by the system).
  user:set-roles <username> --roles <role,role…>
      Replace the user's roles (built-in or custom; the last administrator stays one).
  user:set-groups <username> --groups <group,group…>
      Replace the user's groups (an empty value clears them).
  role:list
      List the roles: built in (user, admin, introspector) and custom, with their scopes.
  role:set <name> --scopes <scope,scope…> [--description <text>]
      Create a custom role or replace its scopes (e.g. --scopes notes:read,notes:write).
  role:delete <name>
      Delete a custom role nobody holds.
  audit:tail [--limit N]
      Print the newest N audit events (default 20, at most 500), oldest first, one per line.
  keys:generate
      Print a new secret key and the SECRET_KEYS value that rotates it in. No database needed.
  keys:generate-signing
      Print a new ES256 access-token signing key and the SIGNING_KEYS value that publishes it
      (the first of three rotation steps). No database needed.
`;

const COMMANDS = [
  'user:create',
  'user:set-password',
  'user:list',
  'user:disable',
  'user:enable',
  'user:revoke-all',
  'user:grant-admin',
  'user:set-roles',
  'user:set-groups',
  'role:list',
  'role:set',
  'role:delete',
  'audit:tail',
  'keys:generate',
  'keys:generate-signing',
];
const READS_PASSWORD = new Set(['user:create', 'user:set-password']);
/** Commands that name no user. */
const NO_USERNAME = new Set(['user:list', 'role:list', 'audit:tail', 'keys:generate', 'keys:generate-signing']);
/** Commands whose one argument is a role name, not a username. */
const NAMES_A_ROLE = new Set(['role:set', 'role:delete']);
const FLAGS: Record<string, string[]> = {
  'user:create': ['admin', 'email', 'display-name'],
  'user:set-roles': ['roles'],
  'user:set-groups': ['groups'],
  'role:set': ['scopes', 'description'],
  'audit:tail': ['limit'],
};
/** Options a command cannot do without. */
const REQUIRED_FLAGS: Record<string, string[]> = { 'user:set-roles': ['roles'], 'user:set-groups': ['groups'], 'role:set': ['scopes'] };
const DEFAULT_TAIL = 20;
const MAX_TAIL = 500;

interface Parsed {
  command?: string;
  positional: string[];
  flags: Record<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const name = arg.slice(2);
      const next = argv[i + 1];
      if (name === 'admin' || name === 'help' || next === undefined || next.startsWith('--')) out.flags[name] = true;
      else out.flags[name] = argv[++i];
    } else if (!out.command) out.command = arg;
    else out.positional.push(arg);
  }
  return out;
}

/** Runs one command; resolves to the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof AppError || error instanceof ConfigError || error instanceof CliInputError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  if (!args.command || args.flags.help || args.command === 'help') {
    // Asking for help is a success; running with nothing to do is a usage error.
    if (!args.command && !args.flags.help) {
      io.stderr.write(USAGE);
      return 2;
    }
    io.stdout.write(USAGE);
    return 0;
  }
  if (!COMMANDS.includes(args.command)) {
    io.stderr.write(`Unknown command "${args.command}".\n\n${USAGE}`);
    return 2;
  }
  const needsUsername = !NO_USERNAME.has(args.command);
  if (needsUsername && args.positional.length !== 1) {
    io.stderr.write(`${args.command} takes exactly one <${NAMES_A_ROLE.has(args.command) ? 'name' : 'username'}>.\n\n${USAGE}`);
    return 2;
  }
  if (!needsUsername && args.positional.length > 0) {
    io.stderr.write(`${args.command} takes no arguments besides its options.\n\n${USAGE}`);
    return 2;
  }
  const known = new Set(FLAGS[args.command] ?? []);
  const unknownFlag = Object.keys(args.flags).find((f) => !known.has(f));
  if (unknownFlag) {
    io.stderr.write(`Unknown option --${unknownFlag} for ${args.command}.\n`);
    return 2;
  }
  const missing = (REQUIRED_FLAGS[args.command] ?? []).find((f) => args.flags[f] === undefined);
  if (missing) {
    io.stderr.write(`${args.command} needs --${missing}.\n`);
    return 2;
  }
  for (const f of ['email', 'display-name', 'limit', 'roles', 'scopes', 'description']) {
    // (--groups may be given empty: it clears them)
    if (args.flags[f] === true) {
      io.stderr.write(`--${f} needs a value.\n`);
      return 2;
    }
  }
  const limit = args.flags.limit === undefined ? DEFAULT_TAIL : Number(args.flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TAIL) {
    io.stderr.write(`--limit must be a whole number from 1 to ${MAX_TAIL}.\n`);
    return 2;
  }

  if (args.command === 'keys:generate') {
    const { key, secretKeys, current } = generateSigningKey(process.env);
    io.stdout.write(`New signing key: ${key}\n`);
    io.stdout.write(`SECRET_KEYS=${secretKeys}\n`);
    io.stdout.write(
      current > 0
        ? `Set SECRET_KEYS to this value on every instance and restart: the new key signs from then on and the ${current} current key(s) still verify; remove them once ACCESS_TOKEN_MAX_AGE has passed.\n`
        : 'No current key found (SECRET_KEYS is unset and there is no generated DATA_DIR/secrets.json): set SECRET_KEYS to this value; tokens signed with any other key stop working.\n',
    );
    return 0;
  }

  if (args.command === 'keys:generate-signing') {
    const { key, signingKeys, current } = generateTokenSigningKey(process.env);
    io.stdout.write(`New signing key (private, keep it secret): ${key}\n`);
    io.stdout.write(`SIGNING_KEYS=${signingKeys}\n`);
    io.stdout.write(
      current.length > 0
        ? 'Rotation, on every instance at each step: 1. set SIGNING_KEYS to this value and restart (the new key is published, the current one still signs); ' +
            '2. after the key set\'s cache time (5 minutes), move the new key first and restart (it signs); ' +
            '3. after ACCESS_TOKEN_MAX_AGE more, remove the old key.\n'
        : 'No current key found (SIGNING_KEYS is unset and there is no generated DATA_DIR/secrets.json): set SIGNING_KEYS to this value; access tokens signed with any other ES256 key stop working.\n',
    );
    return 0;
  }

  loadConfig(process.env); // fail fast with a readable message before Nest starts
  const password = READS_PASSWORD.has(args.command) ? await readPassword(io, { confirm: args.command === 'user:create' }) : undefined;

  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    const users = app.get(UsersService);
    switch (args.command) {
      case 'user:create': {
        const user = await users.create({
          username: args.positional[0],
          password,
          roles: args.flags.admin ? [Role.User, Role.Admin] : [Role.User],
          email: (args.flags.email as string | undefined) ?? null,
          displayName: (args.flags['display-name'] as string | undefined) ?? null,
        });
        io.stdout.write(`Created user ${user.username} (${user.id}) with roles ${user.roles.join(', ')}.\n`);
        return 0;
      }
      case 'user:set-password': {
        const user = await users.setPasswordByUsername(args.positional[0], password!);
        const ended = await app.get(SessionsService).revokeAllForUser(user.id, 'password_change');
        io.stdout.write(`Password of ${user.username} changed; ${ended} session(s) ended.\n`);
        return 0;
      }
      case 'user:disable':
      case 'user:enable': {
        const status = args.command === 'user:disable' ? 'disabled' : 'active';
        // The CLI is the way back in: it may disable even the last administrator.
        const user = await users.setStatus((await users.getByUsername(args.positional[0])).id, status, { allowRemovingLastAdmin: true });
        io.stdout.write(`User ${user.username} is now ${user.status}.\n`);
        return 0;
      }
      case 'user:revoke-all': {
        const user = await users.getByUsername(args.positional[0]);
        const { epoch, revoked } = await users.revokeAll(user.id);
        io.stdout.write(
          `Revoked everything ${user.username} held: ${revoked.sessions ?? 0} session(s), ${revoked.api_keys ?? 0} API key(s); epoch is now ${epoch}.\n`,
        );
        return 0;
      }
      case 'user:grant-admin': {
        const user = await users.getByUsername(args.positional[0]);
        if (user.roles.includes(Role.Admin)) {
          io.stdout.write(`User ${user.username} is already an administrator.\n`);
          return 0;
        }
        const { user: updated } = await users.setRoles(user.id, [...user.roles, Role.Admin]);
        io.stdout.write(`User ${updated.username} now has roles ${updated.roles.join(', ')}.\n`);
        return 0;
      }
      case 'user:set-roles': {
        const user = await users.getByUsername(args.positional[0]);
        const { user: updated } = await users.setRoles(user.id, list(args.flags.roles));
        io.stdout.write(`User ${updated.username} now has roles ${updated.roles.join(', ')}.\n`);
        return 0;
      }
      case 'user:set-groups': {
        const user = await users.getByUsername(args.positional[0]);
        const { user: updated } = await users.setGroups(user.id, list(args.flags.groups), 'the CLI');
        io.stdout.write(`User ${updated.username} now has groups ${updated.groups.join(', ') || '(none)'}.\n`);
        return 0;
      }
      case 'role:list': {
        const rows = (await app.get(RolesService).list()).map((r) => [r.name, r.builtIn ? 'yes' : 'no', r.scopes.join(' ')]);
        printTable(io, ['ROLE', 'BUILT-IN', 'SCOPES'], rows);
        return 0;
      }
      case 'role:set': {
        const description = typeof args.flags.description === 'string' ? args.flags.description : undefined;
        const role = await app.get(RolesService).save(args.positional[0], { scopes: list(args.flags.scopes), description }, {});
        io.stdout.write(`Role ${role.name} grants ${role.scopes.join(' ')}.\n`);
        return 0;
      }
      case 'role:delete': {
        await app.get(RolesService).delete(args.positional[0], {});
        io.stdout.write(`Role ${args.positional[0]} deleted.\n`);
        return 0;
      }
      case 'audit:tail': {
        const { events } = await app.get(AuditService).list({ limit });
        for (const event of events.reverse()) io.stdout.write(`${formatEvent(event)}\n`);
        if (events.length === 0) io.stdout.write('(no events)\n');
        return 0;
      }
      case 'user:list': {
        const rows = (await users.list()).map((u) => [
          u.username,
          u.id,
          u.roles.join(','),
          u.status,
          u.createdAt.toISOString(),
          u.lastLoginAt?.toISOString() ?? '-',
        ]);
        printTable(io, ['USERNAME', 'ID', 'ROLES', 'STATUS', 'CREATED', 'LAST LOGIN'], rows);
        return 0;
      }
    }
    return 2;
  } finally {
    await app.close();
  }
}

/** A comma-separated option value as a list (`--roles user,editor`). */
function list(value: string | true | undefined): string[] {
  return typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : [];
}

function printTable(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  io.stdout.write(line(header));
  for (const row of rows) io.stdout.write(line(row));
  if (rows.length === 0) io.stdout.write('(no users)\n');
}

/**
 * One event on one line: time, type, actor, subject, IP, request id and details. The audit log
 * holds no secret (AuditService redacts anything shaped like one), so nothing is hidden here;
 * control characters are escaped so a crafted user agent or label cannot forge lines.
 */
function formatEvent(e: AuditEvent): string {
  const who = (type: string, id: string | null, label: string | null) => (label ? `${type}:${label}` : id ? `${type}:${id}` : type);
  const parts = [
    e.occurredAt.toISOString(),
    e.type,
    `actor=${who(e.actorType, e.actorId, e.actorLabel)}`,
    e.subjectType ? `subject=${who(e.subjectType, e.subjectId, e.subjectLabel)}` : '',
    e.ip ? `ip=${e.ip}` : '',
    e.requestId ? `request=${e.requestId}` : '',
    e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : '',
  ];
  return parts
    .filter((p) => p.length > 0)
    .join(' ')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
