import { WELL_KNOWN_PATHS } from './auth/oauth/well-known.controller';
import { RequestMethod } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { setUpOpenApi } from './common/http/openapi';
import type { ErrorBody } from './common/errors/all-exceptions.filter';
import { AnsweredRequests } from './common/http/answered';
import { CsrfCheck } from './common/http/csrf.check';
import { CsrfTokens } from './common/http/csrf-tokens';
import { AppConfig, APP_CONFIG } from './config/app.config';
import { API_PREFIX } from './common/http/base-url';
import { requestIdOf } from './common/http/request-id';
import { requestScope } from './common/http/request-scope';
import type { LatchkeyRequest } from './common/http/request-context';
import { sendExactJsonContentType } from './common/http/exact-json';
import { installBodyParsers } from './common/http/body-parsers';
import { CredentialStrategies } from './common/auth/credential-strategy';
import { PinoLoggerService, REQUEST_LINE_LOGGER, requestLogger } from './common/logging';
import { GracefulShutdown } from './health/graceful-shutdown';
import { HttpMetrics } from './metrics/http-metrics';
import { boundQueriesForServing } from './database/data-source';
import { pageRouteExclusions } from './web/page-routes';
import { PAGE_CONTROLLERS } from './web/pages/web-pages.module';
import { PLUGINS_API_ROOT } from './plugins/plugins.controller';

export { API_PREFIX };

/**
 * The HTTP server under Nest: Fastify, with the options only its constructor takes. TRUST_PROXY:
 * false, or the proxies (addresses, CIDRs, names) whose X-Forwarded-* count; Fastify (proxy-addr)
 * walks X-Forwarded-For from the socket back to the first address it does not trust. Paths match
 * with or without a trailing slash (Tiled clients ask for `/api/v1/` and `/metadata/`).
 */
export function createHttpAdapter(config: Pick<AppConfig, 'trustProxy' | 'maxBodyBytes'>): FastifyAdapter {
  return new FastifyAdapter(createHttpAdapterOptions(config));
}

/** The options of `createHttpAdapter`'s Fastify instance. */
export function createHttpAdapterOptions(config: Pick<AppConfig, 'trustProxy' | 'maxBodyBytes'>) {
  return {
    // false, or the comma-separated list configuration.ts keeps, which Fastify takes as it is.
    trustProxy: config.trustProxy,
    bodyLimit: config.maxBodyBytes,
    genReqId: requestIdOf,
    // Path parameters as long as a URL may be (each route's pipes judge them: 400, never 414).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 8 * 1024 },
    // What the router refuses before any hook (a malformed %-escape): answered like any error.
    frameworkErrors: routerError,
    // Fastify's own 503 while closing would bypass the shutdown gate's answer.
    return503OnClosing: false,
    // A request (headers and body) must arrive within 5 minutes, as under Node's own default:
    // Fastify turns that limit off, which would let a client trickle a body in forever.
    requestTimeout: 300_000,
  } satisfies FastifyServerOptions;
}

/** Outside Nest (no filter runs): the error shape of AllExceptionsFilter, written here. */
function routerError(error: { code?: string }, req: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long.' : 'The request URL is malformed.';
  reply
    .code(400)
    .headers({ 'X-Request-ID': req.id, 'X-Tiled-Request-ID': req.id, 'Content-Type': 'application/json' })
    .send(JSON.stringify({ statusCode: 400, code: 'BAD_REQUEST', message, detail: message, requestId: req.id } satisfies ErrorBody));
}

/**
 * Everything about the HTTP app that is not a module: the logger, prefix, request id, metrics,
 * the request log line, the shutdown gate, body parsers and limits, CSRF, OpenAPI (returns the
 * document's builder: it is built on first request). Shared by main.ts, the e2e test app and the
 * bench, so tests run what production runs. The app must come from `createHttpAdapter`.
 */
export function configureApp(app: NestFastifyApplication): () => OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
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
      // The API routes that declare their prefix themselves (beside the page of the same path).
      { path: PLUGINS_API_ROOT, method: RequestMethod.GET },
      { path: PLUGINS_API_ROOT, method: RequestMethod.POST },
    ],
  });
  // What every request goes through first, in one hook: the request id echoed (the id itself is
  // Fastify's genReqId), HSTS, then what sees every answer (metrics, the request log line, the
  // count of requests in flight) and the shutdown gate (503 while draining). Before the body is
  // read, so body errors are answered and counted like any other.
  const hsts = config.publicUrl?.startsWith('https:') ?? false;
  const watch = app
    .get(AnsweredRequests)
    .watcher([app.get(HttpMetrics).answered, requestLogger(app.get(REQUEST_LINE_LOGGER), app.get(CredentialStrategies)), app.get(GracefulShutdown).answered]);
  const gate = app.get(GracefulShutdown).gate;
  fastify.addHook('onRequest', (request, reply, done) => {
    const req = request as LatchkeyRequest;
    const res = reply.raw;
    req.reply = reply;
    res.setHeader('X-Request-ID', req.id);
    res.setHeader('X-Tiled-Request-ID', req.id);
    // On every answer, errors and the draining 503 included: browsers then never use http:// again.
    if (hsts) res.setHeader('Strict-Transport-Security', HSTS);
    watch(req, res);
    if (gate(req, reply)) done();
  });
  // Cookies (parsed in their own onRequest hook), then the bodies Latchkey reads.
  void fastify.register(fastifyCookie);
  installBodyParsers(fastify, config.maxBodyBytes);
  // Uploads: the parser only accepts the type; UploadInterceptor reads the parts, after its checks.
  void fastify.register(fastifyMultipart);
  // The CSRF check, after the body is parsed (a form post sends its token as the `csrf` field).
  const csrf = new CsrfCheck(app.get(CsrfTokens));
  fastify.addHook('preValidation', (req, reply, done) => csrf.check(req as LatchkeyRequest, reply, done));
  // The request scope (currentRequest()) around the handler: guards, pipes, interceptors, controller.
  fastify.addHook('preHandler', (req, reply, done) => requestScope(req as LatchkeyRequest, reply, done));
  sendExactJsonContentType(fastify);
  // No enableShutdownHooks(): main.ts drains and closes on SIGTERM itself (GracefulShutdown).
  // Migrations are done: from now on a query that takes longer than a few seconds is a fault.
  boundQueriesForServing();
  return setUpOpenApi(app, config.auth.passwordProviderName);
}

/**
 * HSTS when PUBLIC_URL is https (none over http: a browser would then refuse the plain site).
 * Fixed at one year and subdomains, without `preload` (joining the browsers' preload list is the
 * operator's decision, for the whole domain).
 */
export const HSTS = 'max-age=31536000; includeSubDomains';
