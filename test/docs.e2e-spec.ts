/**
 * The documentation is tested: what README.md and docs/*.md show is what a reader gets.
 *
 * - Every ```sh / ```bash block is marked, on the line before it, with `<!-- doc-test -->` (run
 *   it) or `<!-- doc-test: skip, <why> -->`; an unmarked block fails this suite, so a new one
 *   cannot slip by untested.
 * - The marked blocks of each file run in order in one bash, as a reader runs them in one
 *   terminal, against a live server (this build, `npm start`'s defaults, a scratch DATA_DIR and
 *   working directory; `localhost:3000` is the server's port here). `npm run cli -- …` runs the
 *   CLI of the same build, with the same DATA_DIR.
 * - A command followed by `# → <output>` (continued on `#    ` lines) must print that: `…`
 *   stands for anything, and so does an example value it ends (`"fdedbe49-…"`, `lk_pat_hJMM…`);
 *   whitespace and line breaks are free.
 * - A ```ts block marked `<!-- doc-test: file <path> -->` is that file of this repository, byte
 *   for byte, so it runs with the unit tests.
 * - A ```yaml block marked `<!-- doc-test: ci github|gitlab <repository> <workflow> <ref> -->` is a
 *   GitHub Actions workflow or a .gitlab-ci.yml: its jobs run in the walkthrough, at that point,
 *   as that CI would run them for a push of <ref> (test/utils/ci-jobs.ts), with ID tokens from a
 *   local CI issuer the server trusts (test/utils/ci-issuer.ts). They must succeed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCiIssuer, type CiIssuer } from './utils/ci-issuer';
import { githubWorkflowScript, gitlabPipelineScript } from './utils/ci-jobs';
import { buildServer, freePort, startServer, type ServerProcess } from './utils/server-process';

const ROOT = resolve(__dirname, '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Block {
  file: string;
  line: number;
  lang: string;
  marker: string | undefined;
  text: string;
}

/** Fenced blocks with the marker comment on the line before (indented blocks in lists included). */
function blocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (!open || !open[2]) continue;
    const indent = open[1].length;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    const marker = /<!--\s*doc-test(?::\s*(.*?))?\s*-->/.exec(lines[i - 1] ?? '');
    out.push({
      file,
      line: i + 1,
      lang: open[2],
      marker: marker ? (marker[1] ?? 'run') : undefined,
      text: lines.slice(i + 1, end).map((l) => l.slice(indent)).join('\n'),
    });
    i = end;
  }
  return out;
}

interface Step {
  command: string;
  expected?: string;
  line: number;
  /** A CI example to run (its command is made when the walkthrough runs). */
  ci?: Block;
}

/** Splits a block into commands, each with the output its `# →` comment promises. */
function steps(block: Block): Step[] {
  if (block.marker?.startsWith('ci ')) return [{ command: '', line: block.line, ci: block }];
  const out: Step[] = [];
  let command: string[] = [];
  let start = block.line + 1;
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const arrow = /^# → ?(.*)$/.exec(lines[i]);
    if (arrow) {
      const expected = [arrow[1]];
      while (i + 1 < lines.length && /^# {3,}\S/.test(lines[i + 1])) expected.push(lines[++i].replace(/^#\s+/, ''));
      out.push({ command: command.join('\n'), expected: expected.join('\n'), line: start });
      command = [];
      start = block.line + i + 2;
    } else {
      command.push(lines[i]);
    }
  }
  if (command.some((l) => l.trim() && !l.startsWith('#'))) out.push({ command: command.join('\n'), line: start });
  return out;
}

/** `…` and an example value that ends in it match anything; whitespace is free. */
export function outputPattern(expected: string): RegExp {
  const parts = expected.split(/[\w.+/=-]*…/);
  const literal = (s: string) =>
    s
      .split(/\s+/)
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s*');
  return new RegExp(parts.map(literal).join('[\\s\\S]*?'));
}

const runnable = DOCS.flatMap(blocks).filter((b) => b.lang === 'sh' || b.lang === 'bash');
const ciExamples = DOCS.flatMap(blocks).filter((b) => b.lang === 'yaml' && b.marker?.startsWith('ci '));
const byFile = new Map<string, Block[]>();
for (const b of [...runnable.filter((b) => b.marker === 'run'), ...ciExamples]) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b].sort((x, y) => x.line - y.line));

describe('documentation', () => {
  it('marks every shell block: run, or skipped with a reason', () => {
    const unmarked = runnable.filter((b) => !b.marker || (b.marker !== 'run' && !/^skip,\s*\S/.test(b.marker)));
    expect(unmarked.map((b) => `${b.file}:${b.line}`)).toEqual([]);
  });

  it('shows files of this repository exactly as they are', () => {
    const copies = DOCS.flatMap(blocks).filter((b) => b.marker?.startsWith('file '));
    expect(copies.length).toBeGreaterThan(0);
    for (const b of copies) {
      const path = b.marker!.slice('file '.length).trim();
      expect([`${b.file}:${b.line}`, `${b.text}\n`]).toEqual([`${b.file}:${b.line}`, readFileSync(join(ROOT, path), 'utf8')]);
    }
  });

  describe('walkthroughs against a live server', () => {
    let build: { dir: string; remove: () => void };
    let server: ServerProcess;
    let work: string;
    let port: number;
    const ci: Partial<Record<'github' | 'gitlab', CiIssuer>> = {};

    beforeAll(async () => {
      build = buildServer();
      work = mkdtempSync(join(tmpdir(), 'latchkey-docs-'));
      port = await freePort();
      [ci.github, ci.gitlab] = await Promise.all([startCiIssuer('github'), startCiIssuer('gitlab')]);
      server = await startServer('docs', build.dir, port, {
        DATA_DIR: join(work, 'data'),
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        // The CI examples' issuers; the audience a deployment gets from its PUBLIC_URL.
        TRUSTED_ISSUER_GITHUB_URL: ci.github.issuer,
        TRUSTED_ISSUER_GITLAB_URL: ci.gitlab.issuer,
        TRUSTED_PUBLISHING_AUDIENCE: `http://localhost:${port}`,
      });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await Promise.all([ci.github?.stop(), ci.gitlab?.stop()]);
      build?.remove();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it.each([...byFile.keys()])('%s prints what it promises', async (file) => {
      const here = (text: string) => text.replaceAll('localhost:3000', `localhost:${port}`);
      const outDir = join(work, 'out', file.replace(/\W/g, '_'));
      const all = byFile.get(file)!.flatMap(steps).map((s, i) => {
        if (!s.ci) return s;
        const [, kind, repository, workflow, ref] = s.ci.marker!.split(/\s+/);
        const spec = { repository, workflow, ref };
        const dir = join(work, 'ci', `${file.replace(/\W/g, '_')}-${i}`);
        const text = here(s.ci.text);
        const command = kind === 'github' ? githubWorkflowScript(text, spec, ci.github!, dir) : gitlabPipelineScript(text, spec, ci.gitlab!, dir);
        if (!command) throw new Error(`${file}:${s.line}: the CI example has no job to run`);
        return { ...s, command: `${command} && echo 'doc-test: the CI jobs succeeded'`, expected: 'doc-test: the CI jobs succeeded' };
      });
      const script = [
        'cd "$WORK"',
        // The CLI of this build, with the server's DATA_DIR (npm run cli would rebuild ./dist).
        'npm() { if [ "$1 $2 $3" = "run cli --" ]; then shift 3; node "$BUILD/src/cli.js" "$@"; else echo "doc-test: npm $* is not run here" >&2; return 127; fi; }',
        `mkdir -p "${outDir}"`,
        ...all.map((s, i) => `{\n${here(s.command)}\n} > "${outDir}/${i}" 2>&1`),
      ].join('\n');
      writeFileSync(join(work, 'script.sh'), script);
      // A reader's shell: none of the test environment (its secrets, database, NODE_ENV=test).
      const env = { PATH: process.env.PATH ?? '', HOME: work, WORK: work, BUILD: build.dir, DATA_DIR: join(work, 'data'), NODE_ENV: 'development', NODE_PATH: join(ROOT, 'node_modules') };
      const code = await new Promise<number | null>((done) => {
        const child = spawn('bash', [join(work, 'script.sh')], { cwd: work, env, stdio: 'inherit' });
        child.once('exit', done);
      });
      expect(code).toBe(0);
      const mismatches = all.flatMap((s, i) => {
        if (s.expected === undefined) return [];
        const output = readFileSync(join(outDir, String(i)), 'utf8');
        return outputPattern(here(s.expected)).test(output) ? [] : [`${file}:${s.line}\n  promised: ${s.expected}\n  printed:  ${output.trim().slice(0, 1500)}`];
      });
      // The server's last lines say why, when a step found no server or a 5xx.
      const state = server.child.exitCode === null ? 'running' : `exited with ${server.child.exitCode}`;
      expect(mismatches.length ? [...mismatches, `server ${state}; its last lines:\n${server.output()}`] : []).toEqual([]);
    }, 180_000);
  });
});
