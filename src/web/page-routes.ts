import type { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';

/** An entry of `setGlobalPrefix({ exclude })`. */
export interface PageRoute {
  path: string;
  method: RequestMethod;
}

/**
 * Pages live at short URLs (`/login`, `/account`, `/plugins/{package}/tokens`), outside the
 * global `/api/v1` prefix, which Nest lets a route leave through `setGlobalPrefix({ exclude })`.
 *
 * An exclusion is a path *pattern* matched against each route's declared path, so excluding
 * `plugins/:package/tokens` would also take the API's `GET /api/v1/plugins/:package/tokens` out of
 * the prefix. Two rules keep the pages apart from the API:
 * - every page route is excluded by its exact declared path, with the pattern characters escaped
 *   (`plugins/\:plugin/tokens` matches the declared string `plugins/:plugin/tokens` only);
 * - page routes declare paths that no API route declares: their parameters have names of their
 *   own (`:plugin`, `:token`, `:user`, where the API says `:package`, `:id`); the one page whose
 *   path is an API path below the prefix (`plugins`) has the API routes declare their whole path
 *   (PluginsController).
 * The route inventory snapshot shows the result: pages at the root, the API under `/api/v1`.
 */
export function pageRouteExclusions(controllers: Function[]): PageRoute[] {
  const out: PageRoute[] = [];
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
      const full = [base, path].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');
      out.push({ path: escapePattern(full), method });
    }
  }
  return out;
}

/** path-to-regexp v8 treats these as syntax; a backslash makes each a literal character. */
function escapePattern(path: string): string {
  return path.replace(/[:*{}()[\]?+!\\]/g, (c) => `\\${c}`);
}
