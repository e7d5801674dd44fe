import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The layering the folder names promise: `common/` (with `config/` and `database/`) is below every
 * feature and imports none; the pages (`web/`) sit on top of the features and no feature imports
 * them; only the root module and app setup import `web/`.
 */
const SRC = __dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : [],
  );
}

/** Each relative import of each source file, as `file → target` (paths relative to src/). */
const edges = sources(SRC).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(([, spec]) => ({
    from: relative(SRC, file),
    to: relative(SRC, normalize(join(dirname(file), spec))),
  })),
);
const top = (path: string) => path.split('/')[0];

it('reads the imports (a pages module imports a feature)', () => {
  expect(edges.some((e) => top(e.from) === 'web' && top(e.to) === 'auth')).toBe(true);
});

describe('layering', () => {
  it('common/, config/ and database/ import no feature', () => {
    const below = new Set(['common', 'config', 'database']);
    const violations = edges.filter((e) => below.has(top(e.from)) && !below.has(top(e.to)) && !e.to.startsWith('..'));
    expect(violations).toEqual([]);
  });

  it('no feature imports the pages (web/); only the root module and the app setup do', () => {
    const root = new Set(['app.module.ts', 'app.setup.ts']);
    const violations = edges.filter((e) => top(e.to) === 'web' && top(e.from) !== 'web' && !root.has(e.from));
    expect(violations).toEqual([]);
  });
});

it("only common/http/api-docs.ts loads @nestjs/swagger (the others take its deferred decorators; a type import loads nothing)", () => {
  const loads = sources(SRC).filter((file) => /^import\s+(?!type\b)[^;]*from\s+'@nestjs\/swagger'/m.test(readFileSync(file, 'utf8')));
  expect(loads.map((file) => relative(SRC, file))).toEqual([]);
  // The rule reads what it should: the deferred module names the library, as a type import.
  expect(readFileSync(join(SRC, 'common/http/api-docs.ts'), 'utf8')).toMatch(/^import type \* as Swagger from '@nestjs\/swagger';$/m);
});
