/**
 * `@nestjs/swagger`'s decorators and mapped types, applied when the OpenAPI document is first
 * built instead of when the classes are defined, so that an instance nobody reads the document
 * from never loads the library. Import them from here, never from '@nestjs/swagger' (a unit test
 * checks it).
 *
 * Why: `@nestjs/swagger` with what it loads (lodash, js-yaml, the Swagger UI's static file
 * server) is 136 modules and ~4 MiB of live heap (bench/README.md, "Memory"), held by every
 * instance for a document that is built on first request. The decorators here only record their
 * arguments and target; `loadSwagger()` loads the library and applies every recorded decorator,
 * in the order the classes defined them, which is the order TypeScript would have applied them
 * in. The metadata Swagger's explorer then reads is exactly what the decorators would have written
 * at start-up.
 *
 * The mapped types (`PartialType`, `OmitType`, `IntersectionType`) must build their class at
 * once: `@nestjs/mapped-types` (what `@nestjs/swagger`'s own are built on) gives the class its
 * validation and transformation rules now; the OpenAPI description of its properties is copied
 * from the class `@nestjs/swagger` builds from the same arguments, when the document is built.
 */
import type { Type } from '@nestjs/common';
import * as mapped from '@nestjs/mapped-types';
import type * as Swagger from '@nestjs/swagger';

type SwaggerLibrary = typeof Swagger;
type Decorate = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => void;

/** What was declared before the library was loaded, in declaration order. */
const pending: ((swagger: SwaggerLibrary) => void)[] = [];
let library: SwaggerLibrary | undefined;

function later(apply: (swagger: SwaggerLibrary) => void): void {
  if (library) apply(library);
  else pending.push(apply);
}

type DecoratorName = Extract<keyof SwaggerLibrary, `Api${string}`>;

function deferred<K extends DecoratorName>(name: K): SwaggerLibrary[K] {
  const factory = (...args: unknown[]): Decorate =>
    (target, key, descriptor) =>
      later((swagger) => (swagger[name] as (...a: unknown[]) => Decorate)(...args)(target, key, descriptor));
  return factory as unknown as SwaggerLibrary[K];
}

export const ApiAcceptedResponse = deferred('ApiAcceptedResponse');
export const ApiBody = deferred('ApiBody');
export const ApiConsumes = deferred('ApiConsumes');
export const ApiCreatedResponse = deferred('ApiCreatedResponse');
export const ApiExcludeController = deferred('ApiExcludeController');
export const ApiExcludeEndpoint = deferred('ApiExcludeEndpoint');
export const ApiFoundResponse = deferred('ApiFoundResponse');
export const ApiNoContentResponse = deferred('ApiNoContentResponse');
export const ApiOkResponse = deferred('ApiOkResponse');
export const ApiOperation = deferred('ApiOperation');
export const ApiParam = deferred('ApiParam');
export const ApiProperty = deferred('ApiProperty');
export const ApiPropertyOptional = deferred('ApiPropertyOptional');
export const ApiQuery = deferred('ApiQuery');
export const ApiSeeOtherResponse = deferred('ApiSeeOtherResponse');
export const ApiTags = deferred('ApiTags');

/**
 * Copies what `@nestjs/swagger` knows of `from`'s properties onto `to` (both built from the same
 * arguments, one by each library): the property list and each property's description.
 */
function copyPropertyDocs(from: Type<unknown>, to: Type<unknown>): void {
  const ownSwaggerKeys = (key?: string) =>
    (key === undefined ? Reflect.getOwnMetadataKeys(from.prototype) : Reflect.getOwnMetadataKeys(from.prototype, key)).filter(
      (k): k is string => typeof k === 'string' && k.startsWith('swagger/'),
    );
  for (const metadataKey of ownSwaggerKeys()) {
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, from.prototype), to.prototype);
  }
  // Properties are listed (':name') on the prototype, and their descriptions kept per name.
  const listed = (Reflect.getOwnMetadata('swagger/apiModelPropertiesArray', from.prototype) as string[] | undefined) ?? [];
  for (const entry of listed) {
    const property = entry.replace(/^:/, '');
    for (const metadataKey of ownSwaggerKeys(property)) {
      Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, from.prototype, property), to.prototype, property);
    }
  }
}

export const PartialType: typeof mapped.PartialType = (classRef, options) => {
  const built = mapped.PartialType(classRef, options);
  later((swagger) => copyPropertyDocs(swagger.PartialType(classRef, options), built));
  return built;
};

export const OmitType: typeof mapped.OmitType = (classRef, keys) => {
  const built = mapped.OmitType(classRef, keys);
  later((swagger) => copyPropertyDocs(swagger.OmitType(classRef, keys), built));
  return built;
};

export const IntersectionType: typeof mapped.IntersectionType = (...classRefs) => {
  const built = mapped.IntersectionType(...classRefs);
  later((swagger) => copyPropertyDocs(swagger.IntersectionType(...classRefs), built));
  return built;
};

/** Loads `@nestjs/swagger` (once) and applies every decorator declared so far. */
export function loadSwagger(): SwaggerLibrary {
  if (!library) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    library = require('@nestjs/swagger') as SwaggerLibrary;
    for (const apply of pending.splice(0)) apply(library);
  }
  return library;
}
