import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

/** `nest build` / `nest start` (nest-cli.json) must build and run what `npm run build` / `npm start` do. */
describe('nest-cli.json', () => {
  const cli = json('nest-cli.json');
  const scripts = json('package.json').scripts as Record<string, string>;

  it('builds with tsc from the same tsconfig as npm run build, keeping dist/', () => {
    expect(scripts.build).toBe(`tsc -p ${cli.compilerOptions.tsConfigPath}`);
    expect(cli.compilerOptions).toMatchObject({ builder: 'tsc', deleteOutDir: false });
  });

  it('starts the entry file npm start runs', () => {
    expect(scripts.start).toContain(`dist/${cli.entryFile}.js`);
  });
});
