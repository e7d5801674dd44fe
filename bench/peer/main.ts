/**
 * The peer: what a team would write instead of Latchkey, a minimal Nest app protecting the same
 * handler with `@nestjs/passport` + `passport-jwt` exactly as the Nest documentation shows
 * ("Authentication" recipe, "Implementing Passport JWT"): a JwtStrategy with
 * `ExtractJwt.fromAuthHeaderAsBearerToken()`, `ignoreExpiration: false` and the secret as a
 * string, a `JwtAuthGuard extends AuthGuard('jwt')`, and `JwtModule.register` to sign. The
 * docs' LocalStrategy login is replaced by an unchecked `POST /auth/login` that signs a token
 * for a fixed user: the benchmark measures the guarded route, not the login.
 *
 *   GET  /bench/public   unguarded
 *   GET  /bench/user     @UseGuards(JwtAuthGuard)
 *   POST /auth/login     { access_token }
 */
import { Controller, Get, Injectable, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { startupMemory } from '../startup-memory';

const jwtConstants = {
  secret: process.env.PEER_JWT_SECRET ?? 'DO NOT USE THIS VALUE. INSTEAD, CREATE A COMPLEX SECRET AND KEEP IT SAFE OUTSIDE OF THE SOURCE CODE.',
};

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: jwtConstants.secret,
    });
  }

  async validate(payload: { sub: number; username: string }) {
    return { userId: payload.sub, username: payload.username };
  }
}

@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {}

@Injectable()
export class AuthService {
  constructor(private jwtService: JwtService) {}

  async login(user: { username: string; userId: number }) {
    const payload = { username: user.username, sub: user.userId };
    return { access_token: this.jwtService.sign(payload) };
  }
}

@Controller()
export class AppController {
  constructor(private authService: AuthService) {}

  @Post('auth/login')
  async login() {
    return this.authService.login({ username: 'john', userId: 1 });
  }

  @Get('bench/public')
  open() {
    return { hello: 'world' };
  }

  @UseGuards(JwtAuthGuard)
  @Get('bench/user')
  user() {
    return { hello: 'world' };
  }
}

@Module({
  imports: [PassportModule, JwtModule.register({ secret: jwtConstants.secret, signOptions: { expiresIn: '3600s' } })],
  providers: [AuthService, JwtStrategy],
  controllers: [AppController],
})
export class AppModule {}

async function bootstrap() {
  // Not in the recipe: PEER_ADAPTER=fastify runs the same app on @nestjs/platform-fastify, the
  // adapter Latchkey runs on (the bench's second baseline; the recipe's Express stays the limit).
  const app =
    process.env.PEER_ADAPTER === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] })
      : await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  const port = Number(process.env.PORT ?? 3001);
  await app.listen(port, '127.0.0.1');
  // Not in the recipe: the bench's start-up report (live heap, RSS, modules), as Latchkey's bench server writes it.
  process.stdout.write(`${JSON.stringify({ listening: port, ...startupMemory() })}\n`);
  // Not in the recipe: a clean exit on SIGTERM, so that --cpu-prof (BENCH_NODE_FLAGS) writes its profile.
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

void bootstrap();
