// Validates an OpenAPI document against the OpenAPI 3 schema with @apidevtools/swagger-parser
// (what client generators build on): node openapi-validate.mjs <url> prints `valid`, or the
// problems and exits 1. A child process because the parser is ESM-only and the suites run as
// CommonJS under ts-jest.
import SwaggerParser from '@apidevtools/swagger-parser';

const document = await (await fetch(process.argv[2])).json();
try {
  const api = await SwaggerParser.validate(document);
  console.log(`valid OpenAPI ${api.openapi}`);
} catch (err) {
  console.log(err.message);
  process.exit(1);
}
