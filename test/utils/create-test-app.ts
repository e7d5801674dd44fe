import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter } from '../../src/app.setup';
import { loadConfig } from '../../src/config/configuration';
import { UsersService } from '../../src/users/users.service';
import { createTestDatabase, TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  /** supertest agent-less requester bound to the app's HTTP server. */
  http: () => ReturnType<typeof request>;
  db: TestDatabase;
  dataSource: DataSource;
  /** Creates a user with a password (roles default to ['user']). */
  createUser(username: string, password?: string, roles?: string[]): Promise<{ id: string; username: string; password: string }>;
  /** Password login; returns the token response body. */
  login(username: string, password?: string): Promise<LoginBody>;
  /** A table's name for raw SQL: schema-qualified on PostgreSQL (each suite has its own schema). */
  table(name: string): string;
  /** Closes the app; drops the database unless `keepDatabase`. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

export interface LoginBody {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  token_type: string;
  principal: string;
  identity: { id: string; provider: string };
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

/**
 * Boots the real AppModule (migrations run, global pipe/filter/guards as in production) on a
 * database of its own, with `env` applied on top of the test environment for this app only.
 * Pass `db` to boot a second app on the same database (a restart), `overrides` to replace
 * providers (e.g. the Clock), and `imports` to add modules beside AppModule (a test-only consumer
 * of the guards, as another team's module would be).
 */
export async function createTestApp(
  env: Record<string, string> = {},
  db?: TestDatabase,
  overrides: { provide: unknown; useValue: unknown }[] = [],
  imports: Type[] = [],
): Promise<TestApp> {
  const database = db ?? (await createTestDatabase());
  const saved = { ...process.env };
  Object.assign(process.env, database.env, env);
  let app: NestFastifyApplication;
  try {
    const builder = Test.createTestingModule({ imports: [AppModule, ...imports] });
    for (const o of overrides) builder.overrideProvider(o.provide).useValue(o.useValue);
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(loadConfig(process.env)), { bodyParser: false, logger: ['fatal'] });
    configureApp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  const server = app.getHttpServer();
  const http = () => request(server);
  const users = app.get(UsersService);

  const testApp: TestApp = {
    app,
    http,
    db: database,
    dataSource: app.get(DataSource),
    async createUser(username, password = DEFAULT_PASSWORD, roles = ['user']) {
      const user = await users.create({ username, password, roles });
      return { id: user.id, username: user.username, password };
    },
    async login(username, password = DEFAULT_PASSWORD) {
      const res = await http().post('/api/v1/auth/provider/local/token').type('form').send({ username, password });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as LoginBody;
    },
    table(name) {
      return database.kind === 'postgres' ? `"${database.env.DATABASE_SCHEMA}"."${name}"` : name;
    },
    async close(options = {}) {
      await app.close();
      if (!options.keepDatabase) await database.drop();
    },
  };
  return testApp;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * An `introspector` service principal and an API key for it with the `introspect` scope (what
 * another service uses for introspection and the revocation feed), made by an administrator.
 */
export async function createIntrospectorKey(t: TestApp, adminAccessToken: string): Promise<string> {
  const principal = (await t.http().post('/api/v1/auth/principal?role=introspector').set(bearer(adminAccessToken)).expect(200)).body as { uuid: string };
  const key = await t
    .http()
    .post(`/api/v1/auth/principal/${principal.uuid}/apikey`)
    .set(bearer(adminAccessToken))
    .send({ scopes: ['introspect'], expires_in: null, note: 'introspection' })
    .expect(200);
  return (key.body as { secret: string }).secret;
}
