import type { INestApplication } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module';

export interface RouteHandler {
  controller: Function;
  /** The handler's method name: with the controller's name, its default OpenAPI operationId. */
  name: string;
  handler: Function;
  moduleRef: Module;
}

/** Every route handler of the app's controllers, as Nest registers them (for the OpenAPI document and the route inventory). */
export function* routeHandlers(app: INestApplication): Generator<RouteHandler> {
  const scanner = new MetadataScanner();
  for (const moduleRef of app.get(ModulesContainer).values()) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => object) | null;
      if (!controller?.prototype) continue;
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as Function;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue; // not a route handler
        yield { controller, name, handler, moduleRef };
      }
    }
  }
}
