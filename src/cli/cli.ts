/**
 * Operator CLI: `npm run cli -- <command>` (entry point: src/cli.ts). `npm run cli -- --help`
 * lists the commands (COMMANDS below: each with its arguments, options and what it does).
 * Passwords are read from standard input (a prompt without echo on a terminal, the first line
 * when piped), never from argv, where they would land in shell history and `ps`. Secrets are
 * never printed: keys and tokens show their id and public prefix only.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditModule } from '../audit/audit.module';
import type { AuditEvent } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { AuthCoreModule } from '../common/auth/auth-core.module';
import { credentialStatus, EXPIRY_WARNING_DAYS, expiresSoon } from '../common/auth/credential-status';
import { Role } from '../common/auth/scopes';
import { AppError } from '../common/errors/app-error';
import { RedisModule } from '../common/redis/redis.module';
import { API_PREFIX } from '../common/http/base-url';
import { parseUuid } from '../common/uuid';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { AppConfigModule } from '../config/config.module';
import { loadConfig } from '../config/configuration';
import { ConfigError } from '../config/env.validation';
import { DatabaseModule } from '../database/database.module';
import { PluginTokensModule } from '../plugin-tokens/plugin-tokens.module';
import { deployTokenExpiresSoon } from '../plugin-tokens/dto/plugin-token.dto';
import { PluginTokensService } from '../plugin-tokens/plugin-tokens.service';
import { PluginsModule } from '../plugins/plugins.module';
import { PluginsService } from '../plugins/plugins.service';
import { PluginFilesMove } from '../plugins/storage/move-to-database';
import { RevocationFeedModule } from '../revocation-feed/revocation-feed.module';
import { RolesModule } from '../roles/roles.module';
import { RolesService } from '../roles/roles.service';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { TrustedPublishingModule } from '../trusted-publishing/trusted-publishing.module';
import { lifetimeInWords, publisherName, TrustedPublishingService } from '../trusted-publishing/trusted-publishing.service';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { generateSigningKey, generateTokenSigningKey } from './keys';
import { CliInputError, readPassword } from './read-password';

@Module({
  imports: [AppConfigModule, DatabaseModule, AuthCoreModule, RedisModule, AuditModule, RevocationFeedModule, RolesModule, UsersModule, SessionsModule, ApiKeysModule, PluginsModule, PluginTokensModule, TrustedPublishingModule],
})
class CliModule {}

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

interface Parsed {
  command?: string;
  positional: string[];
  flags: Record<string, string | true>;
}

/** What a command is given: its arguments and options, the password read, and the services. */
interface Run {
  args: string[];
  flags: Record<string, string | true>;
  password?: string;
  app: INestApplicationContext;
  io: CliIo;
}

interface Command {
  /** Positional arguments, by name, all required. */
  args: string[];
  /** Options it takes (`--name value`); BOOLEAN_FLAGS take no value. */
  flags?: string[];
  /** Options it cannot do without. */
  required?: string[];
  /** Reads a password from standard input (confirmed when creating). */
  password?: 'new' | 'set';
  help: string;
  /** Checks the options before anything is opened; a message is a usage error (exit 2). */
  check?: (flags: Record<string, string | true>) => string | undefined;
  /** Without a database (and without loading the configuration beyond the keys). */
  offline?: (io: CliIo) => number;
  run?: (r: Run) => Promise<number>;
}

const BOOLEAN_FLAGS = new Set(['admin', 'help', 'all', 'remove-from-disk']);
const DEFAULT_TAIL = 20;
const MAX_TAIL = 500;

/** Every command, in the order `--help` lists them. */
const COMMANDS: Record<string, Command> = {
  'user:create': {
    args: ['username'],
    flags: ['admin', 'email', 'display-name'],
    password: 'new',
    help: "Create a user. The password is read from standard input.",
    run: async ({ args: [username], flags, password, app, io }) => {
      const user = await app.get(UsersService).create({
        username,
        password,
        roles: flags.admin ? [Role.User, Role.Admin] : [Role.User],
        email: (flags.email as string | undefined) ?? null,
        displayName: (flags['display-name'] as string | undefined) ?? null,
      });
      io.stdout.write(`Created user ${user.username} (${user.id}) with roles ${user.roles.join(', ')}.\n`);
      return 0;
    },
  },
  'user:set-password': {
    args: ['username'],
    password: 'set',
    help: "Set a user's password (read from standard input) and end all their sessions.",
    run: async ({ args: [username], password, app, io }) => {
      const user = await app.get(UsersService).setPasswordByUsername(username, password!);
      const ended = await app.get(SessionsService).revokeAllForUser(user.id, 'password_change');
      io.stdout.write(`Password of ${user.username} changed; ${ended} session(s) ended.\n`);
      return 0;
    },
  },
  'user:list': {
    args: [],
    help: 'List users.',
    run: async ({ app, io }) => {
      const rows = (await app.get(UsersService).list()).map((u) => [u.username, u.id, u.roles.join(','), u.status, u.createdAt.toISOString(), u.lastLoginAt?.toISOString() ?? '-']);
      printTable(io, ['USERNAME', 'ID', 'ROLES', 'STATUS', 'CREATED', 'LAST LOGIN'], rows, 'users');
      return 0;
    },
  },
  'user:disable': {
    args: ['username'],
    help: 'Refuse every credential of the user (tokens, sessions, API keys) until re-enabled.',
    run: ({ args: [username], app, io }) => setStatus(app, io, username, 'disabled'),
  },
  'user:enable': {
    args: ['username'],
    help: "Accept the user's credentials again.",
    run: ({ args: [username], app, io }) => setStatus(app, io, username, 'active'),
  },
  'user:revoke-all': {
    args: ['username'],
    help: 'Revoke everything the user holds (bumps their epoch): they must log in again.',
    run: async ({ args: [username], app, io }) => {
      const users = app.get(UsersService);
      const user = await users.getByUsername(username);
      const { epoch, revoked } = await users.revokeAll(user.id);
      io.stdout.write(`Revoked everything ${user.username} held: ${revoked.sessions ?? 0} session(s), ${revoked.api_keys ?? 0} API key(s); epoch is now ${epoch}.\n`);
      return 0;
    },
  },
  'user:grant-admin': {
    args: ['username'],
    help: 'Add the admin role to a user (recorded in the audit log as done by the system).',
    run: async ({ args: [username], app, io }) => {
      const users = app.get(UsersService);
      const user = await users.getByUsername(username);
      if (user.roles.includes(Role.Admin)) {
        io.stdout.write(`User ${user.username} is already an administrator.\n`);
        return 0;
      }
      const { user: updated } = await users.setRoles(user.id, [...user.roles, Role.Admin]);
      io.stdout.write(`User ${updated.username} now has roles ${updated.roles.join(', ')}.\n`);
      return 0;
    },
  },
  'user:set-roles': {
    args: ['username'],
    flags: ['roles'],
    required: ['roles'],
    help: "Replace the user's roles (--roles a,b: built-in or custom; the last administrator stays one).",
    run: async ({ args: [username], flags, app, io }) => {
      const users = app.get(UsersService);
      const { user } = await users.setRoles((await users.getByUsername(username)).id, list(flags.roles));
      io.stdout.write(`User ${user.username} now has roles ${user.roles.join(', ')}.\n`);
      return 0;
    },
  },
  'user:set-groups': {
    args: ['username'],
    flags: ['groups'],
    required: ['groups'],
    help: "Replace the user's groups (--groups a,b; an empty value clears them).",
    run: async ({ args: [username], flags, app, io }) => {
      const users = app.get(UsersService);
      const { user } = await users.setGroups((await users.getByUsername(username)).id, list(flags.groups), 'the CLI');
      io.stdout.write(`User ${user.username} now has groups ${user.groups.join(', ') || '(none)'}.\n`);
      return 0;
    },
  },
  'key:list': {
    args: ['username'],
    flags: ['all'],
    help: "The user's live API keys (--all: revoked and expired ones too). Never their secrets.",
    run: async ({ args: [username], flags, app, io }) => {
      const apiKeys = app.get(ApiKeysService);
      const user = await app.get(UsersService).getByUsername(username);
      const rows = shown(await apiKeys.listForUser(user.id), flags).map(({ item: k, status }) => [k.id, `lk_pat_${k.firstEight}…`, k.note ?? '-', k.scopes.join(',') || 'none', iso(k.createdAt), iso(k.expiresAt, 'never'), iso(apiKeys.lastUse(k)?.at, 'never'), status]);
      printTable(io, ['ID', 'KEY', 'NOTE', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'], rows, flags.all ? 'API keys' : 'live API keys');
      return 0;
    },
  },
  'key:revoke': {
    args: ['username', 'key'],
    help: "Revoke one of the user's API keys, by its id or its first eight characters (after lk_pat_).",
    run: async ({ args: [username, key], app, io }) => {
      const apiKeys = app.get(ApiKeysService);
      const user = await app.get(UsersService).getByUsername(username);
      const id = parseUuid(key);
      const firstEight = key.replace(/^lk_pat_/, '').replace(/…$/, '');
      if (id) await apiKeys.revokeById(user.id, id);
      else await apiKeys.revokeByFirstEight(user.id, firstEight, `${user.username} has no API key ${firstEight.slice(0, 64)}.`);
      io.stdout.write(`API key ${key} of ${user.username} revoked.\n`);
      return 0;
    },
  },
  'token:list': {
    args: ['plugin'],
    flags: ['all'],
    help: "The plugin's live deploy tokens (--all: revoked and expired ones too). Never their secrets.",
    run: async ({ args: [name], flags, app, io }) => {
      const tokens = app.get(PluginTokensService);
      const plugin = await app.get(PluginsService).getByName(name);
      const rows = shown(await tokens.list(plugin), flags, deployTokenExpiresSoon).map(({ item: t, status }) => [t.id, t.description, t.createdBy?.username ?? (t.trustedPublisherId ? 'trusted publisher' : '-'), iso(t.createdAt), iso(t.expiresAt, 'never'), iso(tokens.lastUse(t)?.at, 'never'), status]);
      printTable(io, ['ID', 'DESCRIPTION', 'CREATED BY', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'], rows, flags.all ? 'deploy tokens' : 'live deploy tokens');
      return 0;
    },
  },
  'token:revoke': {
    args: ['plugin', 'token-id'],
    help: "Revoke one of the plugin's deploy tokens: neither its secret nor an earlier one works any more.",
    run: async ({ args: [name, id], app, io }) => {
      const tokens = app.get(PluginTokensService);
      const token = await tokens.get(await app.get(PluginsService).getByName(name), id); // 404 unless it is this plugin's
      await tokens.revokeAnyById(token.id, 'the CLI');
      io.stdout.write(`Deploy token "${token.description}" of ${name} revoked.\n`);
      return 0;
    },
  },
  'credentials:expiring': {
    args: [],
    flags: ['days'],
    help: `Every user's API keys and every plugin's deploy tokens that still work but expire within N days (--days N: default ${EXPIRY_WARNING_DAYS}, at most 3650), soonest first.`,
    check: (flags) => {
      const days = expiringDays(flags);
      return Number.isInteger(days) && days >= 1 && days <= 3650 ? undefined : '--days must be a whole number from 1 to 3650.';
    },
    run: async ({ flags, app, io }) => {
      const days = expiringDays(flags);
      const [keys, tokens] = await Promise.all([app.get(ApiKeysService).listExpiring(days), app.get(PluginTokensService).listExpiring(days)]);
      const rows = [
        ...keys.map((k) => ({ at: k.expiresAt!, row: ['API key', k.id, `lk_pat_${k.firstEight}…`, `user ${k.user?.username ?? k.userId}`, iso(k.expiresAt)] })),
        ...tokens.map((t) => ({ at: t.expiresAt!, row: ['deploy token', t.id, t.description, `plugin ${t.plugin?.name ?? t.pluginId}`, iso(t.expiresAt)] })),
      ]
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .map((r) => r.row);
      printTable(io, ['KIND', 'ID', 'NAME', 'OF', 'EXPIRES'], rows, `credentials expiring within ${days} days`);
      return 0;
    },
  },
  'session:list': {
    args: ['username'],
    flags: ['all'],
    help: "The user's live sessions (--all: ended ones too).",
    run: async ({ args: [username], flags, app, io }) => {
      const user = await app.get(UsersService).getByUsername(username);
      const rows = shown(await app.get(SessionsService).listForUser(user.id), flags, false).map(({ item: s, status }) => [s.id, s.idpProvider ?? s.authMethod, s.ip ?? '-', iso(s.createdAt), iso(s.lastRefreshedAt, 'never'), iso(s.expiresAt), status]);
      printTable(io, ['ID', 'LOGIN', 'IP', 'CREATED', 'LAST REFRESHED', 'EXPIRES', 'STATUS'], rows, flags.all ? 'sessions' : 'live sessions');
      return 0;
    },
  },
  'session:revoke': {
    args: ['username', 'session-id'],
    help: "End one of the user's sessions: its refresh token and access tokens stop working.",
    run: async ({ args: [username, id], app, io }) => {
      const user = await app.get(UsersService).getByUsername(username);
      await app.get(SessionsService).revokeOwn(user.id, id);
      io.stdout.write(`Session ${id} of ${user.username} revoked.\n`);
      return 0;
    },
  },
  'plugin:create': {
    args: ['name'],
    flags: ['maintainer', 'display-name'],
    required: ['maintainer'],
    help: 'Create a plugin with --maintainer <username> as its first maintainer (--display-name optional).',
    run: async ({ args: [name], flags, app, io }) => {
      const maintainer = await app.get(UsersService).getByUsername(flags.maintainer as string);
      const plugin = await app.get(PluginsService).create({ userId: maintainer.id }, name, flags['display-name'] as string | undefined);
      io.stdout.write(`Created plugin ${plugin.name} (${plugin.id}) maintained by ${maintainer.username}.\n`);
      return 0;
    },
  },
  'plugin:add-maintainer': {
    args: ['plugin', 'username'],
    help: 'Make a user a maintainer of the plugin at once (no invitation: the operator vouches for them).',
    run: async ({ args: [name, username], app, io }) => {
      const plugin = await app.get(PluginsService).getByName(name);
      const user = await app.get(UsersService).getByUsername(username);
      const added = await app.get(PluginsService).addMaintainer(plugin, user);
      io.stdout.write(added ? `${user.username} now maintains ${plugin.name}.\n` : `${user.username} already maintains ${plugin.name}.\n`);
      return 0;
    },
  },
  'publisher:list': {
    args: ['plugin'],
    help: "The plugin's trusted publishers: the CI workflows whose OIDC ID tokens are exchanged for 15-minute deploy tokens.",
    run: async ({ args: [name], app, io }) => {
      const publishing = app.get(TrustedPublishingService);
      const plugin = await app.get(PluginsService).getByName(name);
      const ci = (issuer: string) => publishing.issuerConfigs().find((i) => i.name === issuer)?.displayName ?? issuer;
      const rows = (await publishing.list(plugin)).map((p) => [p.id, ci(p.issuer), p.repository, p.workflow, p.environment ?? 'any', p.refPattern ?? 'any', p.repositoryId ?? '-', iso(p.lastUsedAt, 'never')]);
      printTable(io, ['ID', 'CI', 'REPOSITORY', 'WORKFLOW', 'ENVIRONMENT', 'REF', 'REPOSITORY ID', 'LAST USED'], rows, 'trusted publishers');
      return 0;
    },
  },
  'publisher:add': {
    args: ['plugin'],
    flags: ['issuer', 'repository', 'workflow', 'environment', 'ref'],
    required: ['issuer', 'repository', 'workflow'],
    help: 'Trust a CI workflow to publish the plugin (--issuer: a configured CI, e.g. github or gitlab; --environment and --ref, e.g. refs/tags/v*, narrow it).',
    run: async ({ args: [name], flags, app, io }) => {
      const plugin = await app.get(PluginsService).getByName(name);
      const publisher = await app.get(TrustedPublishingService).add(
        plugin,
        {
          issuer: flags.issuer as string,
          repository: flags.repository as string,
          workflow: flags.workflow as string,
          environment: (flags.environment as string | undefined) ?? null,
          ref: (flags.ref as string | undefined) ?? null,
        },
        null,
      );
      const config = app.get<AppConfig>(APP_CONFIG);
      io.stdout.write(`Trusted publisher "${publisherName(publisher)}" added to ${plugin.name} (id ${publisher.id}).\n`);
      io.stdout.write(
        `Its CI job must request an ID token with audience "${config.trustedPublishing.audience}" and POST it to ${config.publicUrl ?? ''}${EXCHANGE_PATH} ` +
          `as {"token": <ID token>, "plugin": "${plugin.name}"}, which answers a deploy token that lives ${lifetimeInWords(config.trustedPublishing.tokenTtl)}.\n`,
      );
      return 0;
    },
  },
  'publisher:remove': {
    args: ['plugin', 'id'],
    help: "Stop trusting one of the plugin's publishers (by id); the deploy tokens it got that still work are revoked.",
    run: async ({ args: [name, id], app, io }) => {
      const plugin = await app.get(PluginsService).getByName(name);
      const { publisher, tokensRevoked } = await app.get(TrustedPublishingService).remove(plugin, id);
      io.stdout.write(`Trusted publisher "${publisherName(publisher)}" removed from ${plugin.name}; ${tokensRevoked} live deploy token(s) revoked.\n`);
      return 0;
    },
  },
  'storage:move-to-database': {
    args: [],
    flags: ['remove-from-disk'],
    help: 'Move every plugin file from the disk store (PLUGIN_STORAGE_DIR) into the database store, checking each SHA-256 against its version; files already moved are skipped, so it can run again. --remove-from-disk: delete each disk file once its copy is checked. Then run with PLUGIN_STORAGE=database (the default with PostgreSQL).',
    run: async ({ flags, app, io }) => {
      const report = await app.get(PluginFilesMove).toDatabase({ removeFromDisk: flags['remove-from-disk'] === true, progress: (line) => io.stdout.write(`${line}\n`) });
      for (const line of report.failed) io.stderr.write(`error: ${line}\n`);
      io.stdout.write(`${report.moved} moved, ${report.alreadyThere} already in the database, ${report.failed.length} failed${flags['remove-from-disk'] ? `; ${report.removedFromDisk} removed from disk` : ''}.\n`);
      return report.failed.length ? 1 : 0;
    },
  },
  'role:list': {
    args: [],
    help: 'List the roles: built in (user, admin, introspector) and custom, with their scopes.',
    run: async ({ app, io }) => {
      const rows = (await app.get(RolesService).list()).map((r) => [r.name, r.builtIn ? 'yes' : 'no', r.scopes.join(' ') || 'none']);
      printTable(io, ['ROLE', 'BUILT-IN', 'SCOPES'], rows, 'roles');
      return 0;
    },
  },
  'role:set': {
    args: ['name'],
    flags: ['scopes', 'description'],
    required: ['scopes'],
    help: 'Create a custom role or replace its scopes (--scopes notes:read,notes:write [--description d]).',
    run: async ({ args: [name], flags, app, io }) => {
      const description = typeof flags.description === 'string' ? flags.description : undefined;
      const role = await app.get(RolesService).save(name, { scopes: list(flags.scopes), description }, {});
      io.stdout.write(`Role ${role.name} grants ${role.scopes.join(' ')}.\n`);
      return 0;
    },
  },
  'role:delete': {
    args: ['name'],
    help: 'Delete a custom role nobody holds.',
    run: async ({ args: [name], app, io }) => {
      await app.get(RolesService).delete(name, {});
      io.stdout.write(`Role ${name} deleted.\n`);
      return 0;
    },
  },
  'audit:tail': {
    args: [],
    flags: ['limit'],
    help: `Print the newest N audit events (--limit N: default ${DEFAULT_TAIL}, at most ${MAX_TAIL}), oldest first, one per line.`,
    check: (flags) => {
      const limit = tailLimit(flags);
      return Number.isInteger(limit) && limit >= 1 && limit <= MAX_TAIL ? undefined : `--limit must be a whole number from 1 to ${MAX_TAIL}.`;
    },
    run: async ({ flags, app, io }) => {
      const { events } = await app.get(AuditService).list({ limit: tailLimit(flags) });
      for (const event of events.reverse()) io.stdout.write(`${formatEvent(event)}\n`);
      if (events.length === 0) io.stdout.write('(no events)\n');
      return 0;
    },
  },
  'keys:generate': {
    args: [],
    help: 'Print a new secret key and the SECRET_KEYS value that rotates it in. No database needed.',
    offline: (io) => {
      const { key, secretKeys, current } = generateSigningKey(process.env);
      io.stdout.write(`New signing key: ${key}\n`);
      io.stdout.write(`SECRET_KEYS=${secretKeys}\n`);
      io.stdout.write(
        current > 0
          ? `Set SECRET_KEYS to this value on every instance and restart: the new key signs from then on and the ${current} current key(s) still verify; remove them once ACCESS_TOKEN_MAX_AGE has passed.\n`
          : 'No current key found (SECRET_KEYS is unset and there is no generated DATA_DIR/secrets.json): set SECRET_KEYS to this value; tokens signed with any other key stop working.\n',
      );
      return 0;
    },
  },
  'keys:generate-signing': {
    args: [],
    help: 'Print a new ES256 access-token signing key and the SIGNING_KEYS value that publishes it (the first of three rotation steps). No database needed.',
    offline: (io) => {
      const { key, signingKeys, current } = generateTokenSigningKey(process.env);
      io.stdout.write(`New signing key (private, keep it secret): ${key}\n`);
      io.stdout.write(`SIGNING_KEYS=${signingKeys}\n`);
      io.stdout.write(
        current.length > 0
          ? 'Rotation, on every instance at each step: 1. set SIGNING_KEYS to this value and restart (the new key is published, the current one still signs); ' +
              "2. after the key set's cache time (5 minutes), move the new key first and restart (it signs); " +
              '3. after ACCESS_TOKEN_MAX_AGE more, remove the old key.\n'
          : 'No current key found (SIGNING_KEYS is unset and there is no generated DATA_DIR/secrets.json): set SIGNING_KEYS to this value; access tokens signed with any other ES256 key stop working.\n',
      );
      return 0;
    },
  },
};

/** `--help`: every command with its arguments and options, and what it does. */
const USAGE = `Usage: npm run cli -- <command>

${Object.entries(COMMANDS)
  .map(([name, c]) => {
    const options = (c.flags ?? []).map((f) => {
      const shown = BOOLEAN_FLAGS.has(f) ? `--${f}` : `--${f} <${f}>`;
      return c.required?.includes(f) ? ` ${shown}` : ` [${shown}]`;
    });
    return `  ${[name, ...c.args.map((a) => `<${a}>`)].join(' ')}${options.join('')}\n      ${c.help}`;
  })
  .join('\n')}
`;

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const name = arg.slice(2);
      const next = argv[i + 1];
      if (BOOLEAN_FLAGS.has(name) || next === undefined || next.startsWith('--')) out.flags[name] = true;
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
  const command = Object.hasOwn(COMMANDS, args.command) ? COMMANDS[args.command] : undefined;
  if (!command) {
    io.stderr.write(`Unknown command "${args.command}".\n\n${USAGE}`);
    return 2;
  }
  const usageError = checkUsage(args.command, command, args);
  if (usageError) {
    io.stderr.write(usageError);
    return 2;
  }
  if (command.offline) return command.offline(io);

  loadConfig(process.env); // fail fast with a readable message before Nest starts
  const password = command.password ? await readPassword(io, { confirm: command.password === 'new' }) : undefined;
  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    return await command.run!({ args: args.positional, flags: args.flags, password, app, io });
  } finally {
    await app.close();
  }
}

/** The arguments and options against the command's table entry; the message of the first problem. */
function checkUsage(name: string, command: Command, args: Parsed): string | undefined {
  if (args.positional.length !== command.args.length) {
    const wanted = command.args.length === 0 ? 'no arguments besides its options' : command.args.map((a) => `<${a}>`).join(' ');
    return `${name} takes ${wanted}.\n\n${USAGE}`;
  }
  const known = new Set(command.flags ?? []);
  const unknownFlag = Object.keys(args.flags).find((f) => !known.has(f));
  if (unknownFlag) return `Unknown option --${unknownFlag} for ${name}.\n`;
  const missing = (command.required ?? []).find((f) => args.flags[f] === undefined);
  if (missing) return `${name} needs --${missing}.\n`;
  // (--groups may be given empty: it clears them)
  const valueless = Object.keys(args.flags).find((f) => args.flags[f] === true && !BOOLEAN_FLAGS.has(f) && f !== 'groups');
  if (valueless) return `--${valueless} needs a value.\n`;
  const problem = command.check?.(args.flags);
  return problem ? `${problem}\n` : undefined;
}

async function setStatus(app: INestApplicationContext, io: CliIo, username: string, status: 'active' | 'disabled'): Promise<number> {
  const users = app.get(UsersService);
  // The CLI is the way back in: it may disable even the last administrator.
  const user = await users.setStatus((await users.getByUsername(username)).id, status, { allowRemovingLastAdmin: true });
  io.stdout.write(`User ${user.username} is now ${user.status}.\n`);
  return 0;
}

/**
 * Keys, tokens or sessions with their status ("active, expires soon" when `soon` says so: within
 * EXPIRY_WARNING_DAYS by default; `false` for none): the live ones, or all of them with `--all`.
 */
function shown<T extends { revokedAt: Date | null; expiresAt: Date | null }>(
  items: T[],
  flags: Record<string, string | true>,
  soon: ((item: T, now: Date) => boolean) | false = expiresSoon,
): { item: T; status: string }[] {
  const now = new Date();
  return items
    .map((item) => ({ item, status: credentialStatus(item, now) }))
    .filter(({ status }) => flags.all || status === 'active')
    .map(({ item, status }) => ({ item, status: soon && soon(item, now) ? `${status}, expires soon` : status }));
}

/** Where a CI job exchanges its ID token (TrustedPublishingController). */
const EXCHANGE_PATH = `/${API_PREFIX}/trusted-publishing/exchange`;



const expiringDays = (flags: Record<string, string | true>) => (flags.days === undefined ? EXPIRY_WARNING_DAYS : Number(flags.days));
const tailLimit = (flags: Record<string, string | true>) => (flags.limit === undefined ? DEFAULT_TAIL : Number(flags.limit));

/** A time for a table cell: ISO 8601, or `empty`. */
function iso(date: Date | null | undefined, empty = '-'): string {
  return date ? date.toISOString() : empty;
}

/** A comma-separated option value as a list (`--roles user,editor`). */
function list(value: string | true | undefined): string[] {
  return typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : [];
}

/** Columns padded to the widest cell; control characters escaped (a note or description cannot forge lines). */
function printTable(io: CliIo, header: string[], rows: string[][], what: string): void {
  const clean = rows.map((r) => r.map(escapeControls));
  const widths = header.map((h, i) => Math.max(h.length, ...clean.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  io.stdout.write(line(header));
  for (const row of clean) io.stdout.write(line(row));
  if (rows.length === 0) io.stdout.write(`(no ${what})\n`);
}

function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
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
  return escapeControls(parts.filter((p) => p.length > 0).join(' '));
}
