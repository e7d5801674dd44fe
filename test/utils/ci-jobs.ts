/**
 * Runs the jobs of a GitHub Actions workflow or a `.gitlab-ci.yml` the way those CIs would, as
 * far as a documentation example needs: each job's shell steps, in a scratch checkout, with the
 * variables the CI sets, and the OIDC ID tokens it hands out (from a local CiIssuer). Steps that
 * `uses:` an action are skipped (the checkout is already there).
 *
 * Returns a bash command (for the docs walkthrough's script); the step files are written to `dir`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { CiIssuer, CiJobSpec } from './ci-issuer';

type Env = Record<string, string>;

const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
const exportLines = (env: Env) => Object.entries(env).map(([k, v]) => `export ${k}=${quote(String(v))}`).join('\n');

/** A scratch checkout: the files a plugin's repository might hold. */
function checkout(dir: string): string {
  const workspace = join(dir, 'workspace');
  mkdirSync(join(workspace, 'src'), { recursive: true });
  writeFileSync(join(workspace, 'README.md'), '# napari-foo\n');
  writeFileSync(join(workspace, 'src', 'napari_foo.py'), 'def hello():\n    return "hello"\n');
  return workspace;
}

/** `.github/workflows/<spec.workflow>` started by a push of `spec.ref`. */
export function githubWorkflowScript(text: string, spec: CiJobSpec, issuer: CiIssuer, dir: string): string {
  const workflow = yaml.load(text) as { env?: Env; permissions?: Record<string, string>; jobs: Record<string, any> };
  const lines: string[] = [];
  for (const [name, job] of Object.entries(workflow.jobs)) {
    const environment = typeof job.environment === 'string' ? job.environment : job.environment?.name;
    const permissions = { ...workflow.permissions, ...job.permissions };
    const jobDir = join(dir, name);
    const workspace = checkout(jobDir);
    const temp = join(jobDir, 'tmp');
    mkdirSync(temp, { recursive: true });
    const refName = spec.ref.replace(/^refs\/(heads|tags)\//, '');
    const env: Env = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: spec.repository,
      GITHUB_REF: spec.ref,
      GITHUB_REF_NAME: refName,
      GITHUB_REF_TYPE: spec.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      GITHUB_WORKFLOW_REF: `${spec.repository}/.github/workflows/${spec.workflow}@${spec.ref}`,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: temp,
      // Only with `permissions: id-token: write`, as on GitHub.
      ...(permissions['id-token'] === 'write' ? issuer.runner({ ...spec, environment }) : {}),
      ...workflow.env,
      ...job.env,
    };
    (job.steps as { run?: string; uses?: string; env?: Env }[]).forEach((step, i) => {
      if (!step.run) return;
      const file = join(jobDir, `step-${i}.sh`);
      writeFileSync(file, `${exportLines({ ...env, ...step.env })}\ncd ${quote(workspace)}\n${step.run}`);
      lines.push(`bash -e ${quote(file)}`);
    });
  }
  return lines.join(' && \\\n');
}

const GITLAB_KEYWORDS = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script']);

/** A `.gitlab-ci.yml` pipeline for `spec.ref` (its ID tokens from `issuer`, GitLab-shaped). */
export function gitlabPipelineScript(text: string, spec: CiJobSpec, issuer: CiIssuer, dir: string): string {
  const pipeline = yaml.load(text) as Record<string, any>;
  const lines: string[] = [];
  for (const [name, job] of Object.entries(pipeline)) {
    if (GITLAB_KEYWORDS.has(name) || name.startsWith('.') || !job?.script) continue;
    const environment = typeof job.environment === 'string' ? job.environment : job.environment?.name;
    const jobDir = join(dir, name);
    const workspace = checkout(jobDir);
    const refName = spec.ref.replace(/^refs\/(heads|tags)\//, '');
    const tokens: Env = Object.fromEntries(
      Object.entries((job.id_tokens ?? {}) as Record<string, { aud: string | string[] }>).map(([variable, { aud }]) => [
        variable,
        issuer.mint(issuer.job({ ...spec, environment }), { aud, ttl: 600 }),
      ]),
    );
    const env: Env = {
      CI: 'true',
      GITLAB_CI: 'true',
      CI_PROJECT_PATH: spec.repository,
      CI_PROJECT_DIR: workspace,
      CI_COMMIT_REF_NAME: refName,
      ...(spec.ref.startsWith('refs/tags/') ? { CI_COMMIT_TAG: refName } : { CI_COMMIT_BRANCH: refName }),
      ...pipeline.variables,
      ...job.variables,
      ...tokens,
    };
    const script = [...(pipeline.before_script ?? []), ...(job.before_script ?? []), ...job.script].join('\n');
    const file = join(jobDir, 'script.sh');
    writeFileSync(file, `${exportLines(env)}\ncd ${quote(workspace)}\n${script}`);
    lines.push(`bash -e ${quote(file)}`);
  }
  return lines.join(' && \\\n');
}
