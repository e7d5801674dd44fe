import { ParseUUIDPipe, type INestApplication } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, SecurityRequirementObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { RoutePolicies, type RoutePolicy } from '../auth/route-policy';
import { ScopeCatalog } from '../auth/scope-catalog';
import { API_ERRORS } from '../errors/api-errors.decorator';
import { ERROR_CODES, type ErrorCode } from '../errors/error-codes';
import { loadSwagger } from './api-docs';
import { API_PREFIX } from './base-url';
import { routeHandlers } from './route-handlers';
import { UuidParamPipe } from './uuid-param.pipe';
import type { LatchkeyReply, LatchkeyRequest } from './request-context';
import { AppError } from '../errors/app-error';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

/** Security scheme names in `components.securitySchemes`. */
export const SECURITY = { bearer: 'bearer', apiKey: 'Apikey', deployToken: 'DeployToken', password: 'OAuth2PasswordBearer' } as const;

const ERROR_SCHEMA = 'Error';

/** Where Swagger UI is served. */
const DOCS_PATH = '/api/docs';

/**
 * The OpenAPI document, served at /openapi.json and /openapi.yaml, with Swagger UI at /api/docs.
 * Nest's explorer supplies paths, parameters, bodies and success responses from the decorators;
 * `describeOperations` then adds what every operation owes a client generator and a reader,
 * from the same metadata the guards and pipes act on, so it cannot drift from what is enforced:
 * its security requirements, and every error it can answer with, in one shared schema.
 *
 * Built on first request, not at start-up, and `@nestjs/swagger` is loaded then too (its
 * decorators were recorded by `api-docs.ts`): building the document takes ~80 ms, and the library
 * with the document ~4 MiB of heap, that an instance nobody reads the document from never needs.
 * What must fail at start-up still does: a route that requires an undeclared scope (the scope
 * catalog is read now). The routes are registered here rather than by `SwaggerModule.setup`,
 * which would load the library (and a static file server for Swagger UI) at start-up.
 * Returns the document's (memoised) builder.
 */
export function setUpOpenApi(app: INestApplication, passwordProvider: string): () => OpenAPIObject {
  const scopes = scopeCatalog(app);
  let document: OpenAPIObject | undefined;
  const build = (): OpenAPIObject => (document ??= buildDocument(app, passwordProvider, scopes));
  const http = app.getHttpAdapter();
  // The JSON document is served as any other JSON answer (exactly application/json).
  http.get('/openapi.json', (_req: unknown, reply: LatchkeyReply) => reply.send(build()));
  let yaml: string | undefined;
  http.get('/openapi.yaml', (_req: unknown, reply: LatchkeyReply) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yaml ??= (require('js-yaml') as typeof import('js-yaml')).dump(build(), { skipInvalid: true, noRefs: true });
    reply.type('text/yaml').send(yaml);
  });
  serveSwaggerUi(app);
  return build;
}

/**
 * Swagger UI, from its static distribution (`swagger-ui-dist`) as that package documents it: its
 * files as they ship, and our `swagger-initializer.js`, which points it at the JSON document.
 * Only the files listed are served, by name (a path is never joined to the folder). Nothing is
 * loaded or read before the first request.
 */
function serveSwaggerUi(app: INestApplication): void {
  let folder: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fileOf = (name: string) => join((folder ??= (require('swagger-ui-dist/absolute-path.js') as () => string)()), name);
  const http = app.getHttpAdapter();
  const send = (reply: LatchkeyReply, name: string) =>
    reply.type(SWAGGER_UI_FILES[name]).header('Cache-Control', 'public, max-age=3600').send(createReadStream(fileOf(name)));
  // The page's links are relative: it must be read as a folder. (The router ignores a trailing
  // slash, so both forms arrive here.)
  http.get(DOCS_PATH, (req: LatchkeyRequest, reply: LatchkeyReply) => {
    if (!req.url.split('?')[0].endsWith('/')) return reply.redirect(`${DOCS_PATH}/`, 302);
    return send(reply, 'index.html');
  });
  http.get(`${DOCS_PATH}/swagger-initializer.js`, (_req: unknown, reply: LatchkeyReply) =>
    reply.type(SWAGGER_UI_FILES['swagger-initializer.js']).send(SWAGGER_INITIALIZER),
  );
  http.get(`${DOCS_PATH}/:file`, (req: LatchkeyRequest, reply: LatchkeyReply) => {
    const name = req.params.file;
    if (!Object.hasOwn(SWAGGER_UI_FILES, name)) throw new AppError('NOT_FOUND', 'No such file.');
    return send(reply, name);
  });
}

/** Swagger UI's files that its page loads, with their types. */
const SWAGGER_UI_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'swagger-initializer.js': 'application/javascript; charset=utf-8',
  'oauth2-redirect.html': 'text/html; charset=utf-8',
  'oauth2-redirect.js': 'application/javascript; charset=utf-8',
  'favicon-16x16.png': 'image/png',
  'favicon-32x32.png': 'image/png',
};

/**
 * The document two folders up (`/openapi.json` from `/api/docs/`: relative, so that a proxy's path
 * prefix is kept); no top bar (it would load any URL typed in); authorization not kept across
 * reloads, and "Try it out" pressed by the reader.
 */
const SWAGGER_INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '../../openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
};
`;

function buildDocument(app: INestApplication, passwordProvider: string, scopes: Record<string, string>): OpenAPIObject {
  const tokenUrl = `/${API_PREFIX}/auth/provider/${passwordProvider}/token`;
  const { SwaggerModule, DocumentBuilder } = loadSwagger();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Latchkey')
      .setDescription(
        'Every credential a web API meets, in one service. Tiled auth API compatible.\n\n' +
          'Every error is a JSON `Error` with a stable `code`; each operation lists the codes it may answer with. ' +
          'Credentials: an access token (`Authorization: Bearer`, from the password flow or an identity provider), ' +
          'an API key (`Authorization: Apikey <key>` or `?api_key=`), or, on upload routes, a plugin deploy token (`Authorization: Bearer lk_dpl_…`). ' +
          'A refresh token is only ever sent in a request body.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token, or an identity provider offline token (exchanged and cached).' }, SECURITY.bearer)
      .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'Enter `Apikey <key>` (an API key, `lk_pat_…`).' }, SECURITY.apiKey)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: "A plugin deploy token (`lk_dpl_…`): only on its plugin's upload routes." }, SECURITY.deployToken)
      .addOAuth2(
        // Every scope a module declared (@DeclareScopes), with what it allows.
        { type: 'oauth2', flows: { password: { tokenUrl, refreshUrl: `/${API_PREFIX}/auth/session/refresh`, scopes } } },
        SECURITY.password,
      )
      .build(),
  );
  describeOperations(app, document);
  // The password flow's tokenUrl must be a path the document lists (Tiled's OpenAPI test).
  const templated = document.paths[`/${API_PREFIX}/auth/provider/{provider}/token`];
  if (templated?.post) {
    const { parameters, ...post } = templated.post;
    document.paths[tokenUrl] = {
      post: {
        ...post,
        operationId: 'passwordToken',
        summary: `${post.summary} (provider "${passwordProvider}")`,
        parameters: (parameters ?? []).filter((p) => !('name' in p) || p.name !== 'provider'),
      },
    };
  }
  return document;
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

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authenticated, or the credential is not (or no longer) valid',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict with the current state',
  410: 'Gone',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Invalid request',
  429: 'Too many requests (see Retry-After)',
  500: 'Internal server error',
  503: 'Temporarily unavailable (see Retry-After)',
};

/** What verifying a presented credential may answer (any strategy), and what every route may. */
const CREDENTIAL_ERRORS: ErrorCode[] = [
  'MALFORMED_AUTHORIZATION',
  'AUTH_INVALID_TOKEN',
  'AUTH_TOKEN_EXPIRED',
  'AUTH_USER_INACTIVE',
  'SESSION_EXPIRED',
  'IDP_SESSION_EXPIRED',
  'CREDENTIAL_NOT_ACCEPTED',
];
const EVERY_ROUTE: ErrorCode[] = ['TOO_MANY_REQUESTS', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];
const JSON_BODY_ERRORS: ErrorCode[] = ['MALFORMED_JSON', 'JSON_TOO_DEEP', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED'];
const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

function describeOperations(app: INestApplication, document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas[ERROR_SCHEMA] = errorSchema();
  const reflector = app.get(Reflector);
  const policies = new RoutePolicies(reflector);
  const operations = new Map<string, { operation: OperationObject; method: string }>();
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation?.operationId) operations.set(operation.operationId, { operation, method });
    }
  }
  for (const { controller, name, handler } of routeHandlers(app)) {
    const found = operations.get(`${controller.name}_${name}`);
    if (!found) continue; // excluded from the document (@ApiExcludeEndpoint, pages)
    const { operation, method } = found;
    const policy = policies.read([handler as (...a: unknown[]) => unknown, controller]);
    operation.security = securityOf(policy);
    const declared = [
      ...(reflector.get<ErrorCode[] | undefined>(API_ERRORS, handler) ?? []),
      ...(reflector.get<ErrorCode[] | undefined>(API_ERRORS, controller) ?? []),
    ];
    const codes = new Set<ErrorCode>([
      ...guardErrors(policy, method),
      ...pipeErrors(controller, name, operation),
      ...(operation.requestBody ? bodyErrors(operation) : []),
      ...(operation.parameters?.some((p) => 'in' in p && p.in === 'query') ? (['VALIDATION_FAILED'] as ErrorCode[]) : []),
      ...declared,
      ...EVERY_ROUTE,
    ]);
    addErrorResponses(operation, [...codes]);
  }
}

/**
 * Who may call: nothing on a public route; with `{}` first (anonymous) on an optional one;
 * otherwise an access token (with the route's scopes, for the password flow), an API key unless
 * the route needs an interactive login, and a deploy token where the route accepts one.
 */
function securityOf(policy: RoutePolicy): SecurityRequirementObject[] {
  if (policy.access === 'public') return [];
  const schemes: SecurityRequirementObject[] = [{ [SECURITY.bearer]: [] }, { [SECURITY.password]: [...policy.scopes] }];
  if (!policy.sessionOnly) schemes.push({ [SECURITY.apiKey]: [] });
  if (policy.principalKinds.includes('plugin_token')) schemes.push({ [SECURITY.deployToken]: [] });
  return policy.access === 'optional' ? [{}, ...schemes] : schemes;
}

/** What the global guards and the CSRF check answer on this route. */
function guardErrors(policy: RoutePolicy, method: string): ErrorCode[] {
  if (policy.access === 'public') return [];
  const codes: ErrorCode[] = [...CREDENTIAL_ERRORS];
  if (policy.access === 'credential') codes.push('AUTH_REQUIRED');
  if (policy.roles.length > 0) codes.push('INSUFFICIENT_ROLE');
  if (policy.sessionOnly) codes.push('SESSION_REQUIRED');
  if (policy.scopes.length > 0) codes.push(policy.tiledScopeErrors ? 'INSUFFICIENT_SCOPE_TILED' : 'INSUFFICIENT_SCOPE');
  if (policy.recentLogin) codes.push('REAUTH_REQUIRED');
  // A state-changing request authenticated by a cookie must pass the double-submit check.
  if (UNSAFE.has(method)) codes.push('CSRF_FAILED');
  return codes;
}

/**
 * The codes of the path-id pipes (`uuidOr404`: a malformed id is as unknown as a missing one;
 * Nest's ParseUUIDPipe: 400). Their parameters are marked `format: uuid`.
 */
function pipeErrors(controller: Function, name: string, operation: OperationObject): ErrorCode[] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, { data?: unknown; pipes?: unknown[] }>;
  return Object.values(args).flatMap((arg) =>
    (arg.pipes ?? []).flatMap((p): ErrorCode[] => {
      const code: ErrorCode | undefined = p instanceof UuidParamPipe ? p.code : p instanceof ParseUUIDPipe ? 'BAD_REQUEST' : undefined;
      if (!code) return [];
      const parameter = operation.parameters?.find((q) => 'in' in q && q.in === 'path' && q.name === arg.data);
      if (parameter && 'schema' in parameter && parameter.schema && !('$ref' in parameter.schema)) parameter.schema.format = 'uuid';
      return [code];
    }),
  );
}

function bodyErrors(operation: OperationObject): ErrorCode[] {
  const types = Object.keys((operation.requestBody as { content?: object }).content ?? {});
  // A multipart body is streamed (no JSON parsing); its size and fields are still checked.
  if (types.length === 1 && types[0] === 'multipart/form-data') return ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED'];
  return JSON_BODY_ERRORS;
}

/**
 * One response per error status, each the shared `Error` schema with `code` narrowed to the
 * codes this operation may answer with (also named in the description). Handlers do not
 * document error responses themselves: they declare domain codes with `@ApiErrors`.
 */
function addErrorResponses(operation: OperationObject, codes: ErrorCode[]): void {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    operation.responses[status] = {
      description: `${STATUS_TEXT[status] ?? 'Error'}. \`code\`: ${list.join(', ')}`,
      content: {
        'application/json': {
          schema: { allOf: [{ $ref: `#/components/schemas/${ERROR_SCHEMA}` }, { type: 'object', properties: { code: { type: 'string', enum: list } } }] },
        },
      },
    };
  }
}

function errorSchema() {
  return {
    type: 'object' as const,
    description: 'Every error Latchkey answers with (4xx and 5xx), whatever the route.',
    required: ['statusCode', 'code', 'message', 'detail', 'requestId'],
    properties: {
      statusCode: { type: 'integer' as const, description: 'The HTTP status, repeated.', example: 404 },
      code: {
        type: 'string' as const,
        description: 'Stable and machine-readable: clients may rely on it. Each operation lists the codes it may answer with.',
        enum: Object.keys(ERROR_CODES),
        example: 'USER_NOT_FOUND',
      },
      message: { type: 'string' as const, description: 'For people; may change between versions.', example: 'No such user.' },
      detail: {
        description: 'What Tiled clients read: usually the message, on some Tiled routes an object (e.g. `{"error": "authorization_pending"}`).',
        example: 'No such user.',
      },
      requestId: { type: 'string' as const, description: 'The X-Request-ID header of the answer; quote it when reporting a problem.', example: '9f2c4e1a7b3d5f60' },
      errors: {
        type: 'array' as const,
        description: 'On VALIDATION_FAILED: each field that was refused, and why.',
        items: {
          type: 'object' as const,
          required: ['field', 'message'],
          properties: { field: { type: 'string' as const, example: 'scopes' }, message: { type: 'string' as const } },
        },
      },
    },
  };
}
