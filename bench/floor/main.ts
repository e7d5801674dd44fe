/**
 * The stack floor: the libraries Latchkey's design pins (../shared/DEPENDENCIES.md, the design
 * card), each doing one small real thing, and none of Latchkey's own code. What this process holds
 * is what any app built on that stack holds before it implements anything; the bench reports it
 * beside the peer so that Latchkey's memory is split into "the stack" and "Latchkey".
 *
 * Nest 11 on Fastify, TypeORM 0.3 on SQLite (one entity, one repository query per request),
 * class-validator + class-transformer (a validated query DTO), @nestjs/swagger (the DTO
 * documented, the document served, without Swagger UI's page), @nestjs/terminus (a health check on the database),
 * prom-client (a request counter), pino (a log line per request), jsonwebtoken (a token
 * signed at start). Same handler as the peer and Latchkey's bench route.
 *
 *   GET /bench/public   a validated query, one counter, one log line
 *   GET /health         terminus: the database answers
 */
import { Controller, Get, Injectable, Module, Query, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiProperty, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TerminusModule, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import jwt from 'jsonwebtoken';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Counter, register } from 'prom-client';
import { Column, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { startupMemory } from '../startup-memory';

@Entity('things')
class Thing {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;
}

class BenchQuery {
  @ApiProperty({ required: false, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

const requests = new Counter({ name: 'floor_requests_total', help: 'Requests served.' });
const log = pino({ level: 'info' }, pino.destination({ dest: 1, sync: false }));

@Injectable()
class Things {
  constructor(@InjectRepository(Thing) private readonly things: Repository<Thing>) {}

  count(): Promise<number> {
    return this.things.count();
  }
}

@Controller()
class FloorController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
  ) {}

  @Get('bench/public')
  open(@Query() _query: BenchQuery) {
    requests.inc();
    log.info({ route: '/bench/public' }, 'request');
    return { hello: 'world' };
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.db.pingCheck('database')]);
  }

  @Get('metrics')
  metrics() {
    return register.metrics();
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'sqlite', database: join(mkdtempSync(join(tmpdir(), 'floor-')), 'floor.sqlite'), entities: [Thing], synchronize: true }),
    TypeOrmModule.forFeature([Thing]),
    TerminusModule,
  ],
  providers: [Things],
  controllers: [FloorController],
})
class FloorModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(FloorModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
  // The document only (Swagger UI's page would need @fastify/static, which Latchkey does not install).
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('floor').build()), { ui: false });
  jwt.sign({ sub: 'start' }, 'floor-secret', { algorithm: 'HS256', expiresIn: 60 });
  await app.get(Things).count();
  const port = Number(process.env.PORT ?? 3002);
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ listening: port, ...startupMemory() })}\n`);
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

void main();
