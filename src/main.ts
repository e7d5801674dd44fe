import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter } from './app.setup';
import { loadConfig, loadDotEnv } from './config/configuration';
import { ConfigError } from './config/env.validation';
import { createRootLogger, PinoLoggerService } from './common/logging';
import { GracefulShutdown } from './health/graceful-shutdown';
import { UsersService } from './users/users.service';

async function bootstrap(): Promise<void> {
  // Whatever this process creates (SQLite and its -wal/-shm, secrets.json, plugin files, their
  // directories) is readable by the service's user only: 0600 files, 0700 directories.
  process.umask(0o077);
  let config;
  try {
    loadDotEnv();
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`latchkey: ${error.message}\nSee README.md ("Configuration") and .env.example.\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(config), {
    bodyParser: false,
    // JSON lines from the first boot message on (configureApp then installs the app's own instance).
    logger: new PinoLoggerService(createRootLogger(config)),
  });
  configureApp(app);
  // Every interface, as Node's own default: IPv6 and IPv4 where the host has IPv6, else IPv4
  // (Fastify's default would be localhost only).
  await app.listen(config.port, '::').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') throw error;
    return app.listen(config.port, '0.0.0.0');
  });
  app.get(GracefulShutdown).exitOnSignals(app, config.shutdownGraceMs);

  const logger = new Logger('Latchkey');
  const db = config.database.type === 'sqlite' ? `SQLite ${config.database.path}` : 'PostgreSQL';
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(`listening on http://localhost:${port}/api/v1/ (${db})`);
  if (config.auth.secretsSource !== 'env') {
    logger.warn(
      `SECRET_KEYS/TOKEN_PEPPER not set: using development secrets ${config.auth.secretsSource === 'generated' ? 'generated in' : 'from'} ${config.dataDir}/secrets.json`,
    );
  }
  if ((await app.get(UsersService).count()) === 0) {
    logger.warn('No users yet. Create the first administrator with: npm run cli -- user:create <username> --admin');
  }
}

void bootstrap();
