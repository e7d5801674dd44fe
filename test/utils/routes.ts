import { RequestMethod, VersioningType, type INestApplication, type VersioningOptions } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';
import { RoutePolicies, type RoutePolicy } from '../../src/common/auth/route-policy';

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
  const scanner = new MetadataScanner();
  const versioning = config.getVersioning() as VersioningOptions | undefined;
  const modules = app.get(ModulesContainer);
  const routes: DiscoveredRoute[] = [];
  for (const moduleRef of modules.values()) {
    const modulePath: string | undefined =
      Reflect.getMetadata(MODULE_PATH + modules.applicationId, moduleRef.metatype) ??
      Reflect.getMetadata(MODULE_PATH, moduleRef.metatype);
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => object) | null;
      if (!controller?.prototype) continue;
      const ctrlPaths = [Reflect.getMetadata(PATH_METADATA, controller) ?? '/'].flat() as string[];
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (methodPaths === undefined) continue; // not a route handler
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
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}
