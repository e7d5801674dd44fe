/**
 * Latchkey as `npm start` runs it (AppModule, configureApp), plus one bench-only controller whose
 * handlers all do the same trivial thing, so that what differs between the measured routes is
 * the credential check alone. The peer (bench/peer) serves the same handler.
 *
 *   GET /api/v1/bench/public               @Public(): the physical limit of auth overhead
 *   GET /api/v1/bench/user                 the default policy: a user credential (access token,
 *                                          API key, IdP offline token), like every user route
 *   GET /api/v1/bench/plugins/{package}    protected like the upload routes: @AcceptPluginToken,
 *                                          and the token must belong to the addressed plugin
 */
import { Controller, Get, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../src/app.module';
import { configureApp, createHttpAdapter } from '../src/app.setup';
import { AcceptPluginToken, Public } from '../src/common/auth/decorators';
import type { LatchkeyRequest } from '../src/common/http/request-context';
import { AppError } from '../src/common/errors/app-error';
import { loadConfig } from '../src/config/configuration';
import { UPLOAD_SCOPE } from '../src/plugins/plugins.service';
import { startupMemory } from './startup-memory';

export const HELLO = Object.freeze({ hello: 'world' });

/** The seeded plugin the deploy-token route serves (name → id, given by the bench runner). */
const BENCH_PLUGINS: Record<string, string> = JSON.parse(process.env.BENCH_PLUGINS ?? '{}');

@Controller('bench')
class BenchController {
  @Public()
  @Get('public')
  open() {
    return HELLO;
  }

  @Get('user')
  user() {
    return HELLO;
  }

  @AcceptPluginToken()
  @Get('plugins/:package')
  plugin(@Req() req: LatchkeyRequest) {
    // What PluginsService.assertCanUpload asks of a deploy token, without the plugin lookup. The
    // request is read directly, so that this handler costs what the others do (no parameter
    // decorators to resolve): what differs between the routes is the credential check.
    const principal = req.principal!;
    if (principal.kind === 'plugin_token' && (BENCH_PLUGINS[String(req.params.package)] !== principal.pluginId || !principal.scopes.includes(UPLOAD_SCOPE))) {
      throw new AppError('FORBIDDEN', 'This deploy token belongs to another plugin.');
    }
    return HELLO;
  }
}

@Module({ imports: [AppModule], controllers: [BenchController] })
class BenchAppModule {}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await NestFactory.create<NestFastifyApplication>(BenchAppModule, createHttpAdapter(config), { bodyParser: false, logger: ['error', 'warn'] });
  configureApp(app);
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ listening: config.port, ...startupMemory() })}\n`);
  // A clean exit on SIGTERM, so that --cpu-prof (BENCH_NODE_FLAGS) gets to write its profile.
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

void main();
