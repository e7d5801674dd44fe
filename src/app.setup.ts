import { WELL_KNOWN_PATHS } from './auth/oauth/well-known.controller';
import { ScopeCatalog } from './common/auth/scope-catalog';
import { RequestMethod, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig, APP_CONFIG } from './config/app.config';
import { API_PREFIX } from './common/http/base-url';
import { requestId } from './common/http/request-id.middleware';
import { requestScope } from './common/http/request-scope';
import { AppError } from './common/errors/app-error';
import { sendExactJsonContentType } from './common/http/exact-json';
import { JsonCharsetError, JsonTooDeepError, refuseDeepJson } from './common/http/json-depth';
import { CredentialStrategies } from './common/auth/credential-strategy';
import { PinoLoggerService, requestLogger, ROOT_LOGGER } from './common/logging';
import { GracefulShutdown } from './health/graceful-shutdown';
import { HttpMetrics } from './metrics/http-metrics';
import { boundQueriesForServing } from './database/data-source';
import { pageRouteExclusions } from './web/page-routes';
import { PAGE_CONTROLLERS } from './web/pages/web-pages.module';

export { API_PREFIX };

/**
 * Everything about the HTTP app that is not a module: the logger, prefix, request id, metrics,
 * the request log line, the shutdown gate, body limits, proxy trust, OpenAPI. Shared by main.ts
 * and the e2e test app so tests run what production runs.
 */
export function configureApp(app: NestExpressApplication): OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  // Nest's Logger → pino (JSON lines, LOG_LEVEL, LOG_FORMAT, redaction).
  app.useLogger(app.get(PinoLoggerService));
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      // For other services, where RFC 8414 and RFC 7517 clients look (src/auth/oauth).
      ...WELL_KNOWN_PATHS.map((path) => ({ path, method: RequestMethod.GET })),
      // Pages for people (src/web/pages): short URLs, outside the API, each by its exact path.
      ...pageRouteExclusions(PAGE_CONTROLLERS),
    ],
  });
  // Order matters: request id and cookies first, so body-parser errors are answered like any other.
  app.use(requestId);
  // On every answer, errors and the draining 503 included: browsers then never use http:// again.
  if (config.publicUrl?.startsWith('https:')) app.use(strictTransportSecurity);
  // Then what sees every answer (metrics, the request log line) and the shutdown gate (503 while draining).
  app.use(app.get(HttpMetrics).middleware);
  app.use(requestLogger(app.get(ROOT_LOGGER), app.get(CredentialStrategies)));
  app.use(app.get(GracefulShutdown).gate);
  app.use(requestScope);
  app.use(cookieParser());
  // JSON deeper than MAX_JSON_DEPTH is refused from the raw bytes, before JSON.parse. The other
  // parsers cannot nest: urlencoded is `extended: false` (flat keys), Express 5's query parser is
  // 'simple' (flat), multipart fields are strings, and `j:` JSON cookies are only ever read as strings.
  app.useBodyParser('json', { limit: config.maxBodyBytes, verify: refuseDeepJson });
  app.useBodyParser('urlencoded', { limit: config.maxBodyBytes, extended: false, parameterLimit: 100 });
  // Nest would turn a JSON syntax error into a generic 400 carrying the parser's message.
  app.use(malformedJsonToAppError);
  // TRUST_PROXY: false, or the proxies (addresses, CIDRs, names) whose X-Forwarded-* count; Express
  // (proxy-addr) walks X-Forwarded-For from the socket back to the first address it does not trust.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  sendExactJsonContentType(app.getHttpAdapter().getInstance());
  // No enableShutdownHooks(): main.ts drains and closes on SIGTERM itself (GracefulShutdown).
  // Migrations are done: from now on a query that takes longer than a few seconds is a fault.
  boundQueriesForServing();
  return setUpOpenApi(app, config);
}

/**
 * HSTS when PUBLIC_URL is https (none over http: a browser would then refuse the plain site).
 * Fixed at one year and subdomains, without `preload` (joining the browsers' preload list is the
 * operator's decision, for the whole domain).
 */
export const HSTS = 'max-age=31536000; includeSubDomains';

function strictTransportSecurity(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Strict-Transport-Security', HSTS);
  next();
}

function malformedJsonToAppError(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const parseFailed = (err as { type?: unknown } | null)?.type === 'entity.parse.failed';
  if (parseFailed) return next(new AppError('MALFORMED_JSON', 'The request body is not valid JSON.'));
  if (err instanceof JsonTooDeepError) return next(new AppError('JSON_TOO_DEEP', err.message));
  if (err instanceof JsonCharsetError) return next(new AppError('UNSUPPORTED_MEDIA_TYPE', err.message));
  next(err);
}

/** The declared scopes (name → description); none in an application without the catalog. */
function scopeCatalog(app: INestApplication): Record<string, string> {
  let catalog: ScopeCatalog;
  try {
    catalog = app.get(ScopeCatalog, { strict: false });
  } catch {
    return {};
  }
  return catalog.all(); // throws, naming the route, when a route requires an undeclared scope
}

function setUpOpenApi(app: INestApplication, config: AppConfig): OpenAPIObject {
  const provider = config.auth.passwordProviderName;
  const tokenUrl = `/${API_PREFIX}/auth/provider/${provider}/token`;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Latchkey')
      .setDescription('Every credential a web API meets, in one service. Tiled auth API compatible.')
      .setVersion('1')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'Apikey <key>' }, 'Apikey')
      .addOAuth2(
        // Every scope a module declared (@DeclareScopes), with what it allows.
        { type: 'oauth2', flows: { password: { tokenUrl, refreshUrl: `/${API_PREFIX}/auth/session/refresh`, scopes: scopeCatalog(app) } } },
        'OAuth2PasswordBearer',
      )
      .build(),
  );
  // The password flow's tokenUrl must be a path the document lists (Tiled's OpenAPI test).
  const templated = document.paths[`/${API_PREFIX}/auth/provider/{provider}/token`];
  if (templated?.post) {
    const { parameters, ...post } = templated.post;
    document.paths[tokenUrl] = {
      post: { ...post, operationId: 'passwordToken', parameters: (parameters ?? []).filter((p) => !('name' in p) || p.name !== 'provider') },
    };
  }
  // The JSON document is served here, through res.json, so that it is exactly application/json
  // like every other JSON answer (Swagger's own route sends a string, which Express gives a charset).
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml', raw: ['yaml'] });
  app.getHttpAdapter().get('/openapi.json', (_req: unknown, res: Response) => res.json(document));
  return document;
}
