import { RequestMethod, VersioningType, type INestApplication, type VersioningOptions } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, ModulesContainer, Reflector } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';
import { RoutePolicies, type RoutePolicy } from '../../src/common/auth/route-policy';
import { routeHandlers } from '../../src/common/http/route-handlers';

export interface DiscoveredRoute {
  method: string;
  /** Full path template as Express matches it, e.g. `/api/v1/auth/session/revoke/:sessionId`. */
  path: string;
  /** What the global guards ask of the caller, read by the guards' own RoutePolicies. */
  policy: RoutePolicy;
  controller: Function;
  handlerName: string;
}

/**
 * Every route the running app serves, found by walking its controllers as Nest registers them,
 * with full paths built by Nest's own RoutePathFactory (global prefix, excluded routes,
 * versioning), sorted by path then method. Routes added later show up without test changes.
 */
export function discoverRoutes(app: INestApplication): DiscoveredRoute[] {
  const config = app.get(ApplicationConfig);
  const paths = new RoutePathFactory(config);
  const policies = new RoutePolicies(app.get(Reflector));
  const versioning = config.getVersioning() as VersioningOptions | undefined;
  const modules = app.get(ModulesContainer);
  const routes: DiscoveredRoute[] = [];
  for (const { controller, name, handler, moduleRef } of routeHandlers(app)) {
    const modulePath: string | undefined =
      Reflect.getMetadata(MODULE_PATH + modules.applicationId, moduleRef.metatype) ??
      Reflect.getMetadata(MODULE_PATH, moduleRef.metatype);
    const ctrlPaths = [Reflect.getMetadata(PATH_METADATA, controller) ?? '/'].flat() as string[];
    const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[];
    const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
    const policy = policies.read([handler, controller]);
    for (const ctrlPath of ctrlPaths) {
      for (const methodPath of [methodPaths].flat()) {
        const full = paths.create(
          {
            ctrlPath,
            methodPath,
            modulePath,
            globalPrefix: config.getGlobalPrefix(),
            controllerVersion: Reflect.getMetadata(VERSION_METADATA, controller),
            methodVersion: Reflect.getMetadata(VERSION_METADATA, handler),
            versioningOptions: versioning?.type === VersioningType.URI ? versioning : undefined,
          },
          requestMethod,
        );
        for (const path of full) {
          routes.push({ method: RequestMethod[requestMethod], path, policy, controller, handlerName: name });
        }
      }
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/**
 * The only routes anyone may call without a credential. Adding a @Public() route means adding
 * it here, on purpose, in the same change.
 */
export const PUBLIC_ROUTES = [
  'GET /api/v1',
  'POST /api/v1/auth/provider/:provider/token',
  'POST /api/v1/auth/session/refresh',
  'POST /api/v1/auth/session/revoke',
  'POST /api/v1/auth/revoke', // RFC 7009: the token is its own proof
  // Leaked-token reports: GitHub's are signed (checked in the handler against SECRET_SCANNING_KEYS);
  // anyone's revoke only a token they hold, with the same answer whatever it was.
  'POST /api/v1/leaks/github-secret-scanning',
  'POST /api/v1/leaks/report',
  'GET /report-leak', // the same, as a page (CSRF-checked in the handler)
  'POST /report-leak',
  // Trusted publishing: a CI job's OIDC ID token is its own proof (verified in the handler against
  // the CI issuer's keys); what to ask the CI for.
  'GET /api/v1/trusted-publishing',
  'POST /api/v1/trusted-publishing/exchange',
  'POST /api/v1/auth/logout',
  // The OIDC code flow: the redirect to the IdP and the IdP's redirect back (state-checked).
  'GET /api/v1/auth/provider/:provider/authorize',
  'GET /api/v1/auth/provider/:provider/code',
  // Device-code login (`tiled login`): the program's start (it then polls the token route) and
  // the browser's approval form post (CSRF-checked, needs the sealed cookie of an IdP login).
  'POST /api/v1/auth/provider/:provider/authorize',
  'POST /api/v1/auth/provider/:provider/device_code',
  // The page a browser lands on after logging out or when its IdP session ended.
  'GET /logout',
  // The login page and its form (rate-limited like the password grant, CSRF-checked in the handler).
  'GET /login',
  'POST /login',
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  // Prometheus: not a user credential; the handler itself checks METRICS_TOKEN (404 when unset).
  'GET /metrics',
  // For other services: the public keys that verify access tokens and the RFC 8414 metadata.
  'GET /.well-known/jwks.json',
  'GET /.well-known/oauth-authorization-server',
];
