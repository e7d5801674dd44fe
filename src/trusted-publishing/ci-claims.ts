import type { JwtPayload } from 'jsonwebtoken';
import type { CiClaimLayout, CustomClaimNames, TrustedIssuerConfig } from '../config/trusted-publishing.config';

/** What a CI job's verified ID token says about the job, the same for every CI (compared with the publishers). */
export interface CiJob {
  /** `owner/repo` or `group/project`, lower-case (a custom CI's: as sent). */
  repository: string;
  /** The repository's immutable id (GitHub `repository_id`, GitLab `project_id`); null: the CI sends none. */
  repositoryId: string | null;
  /** The workflow file (`release.yml`) or CI config path (`.gitlab-ci.yml`) that runs. */
  workflow: string;
  environment: string | null;
  /** The full ref the job runs for: `refs/heads/main`, `refs/tags/v1.2.0`; null: the CI sends none. */
  ref: string | null;
  /** For the audit log: commit, run, who triggered it. */
  details: { sha: string | null; run: string | null; actor: string | null; event: string | null };
}

const str = (value: unknown, max = 1024): string | null => (typeof value === 'string' && value.length > 0 && value.length <= max ? value : null);
/** GitHub sends ids as strings, some CIs as numbers. */
const id = (value: unknown): string | null => (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : str(value, 64));

/**
 * GitHub Actions (and GitHub-compatible CIs: GitHub Enterprise Server, Forgejo). The `workflow`
 * claim is the workflow's display name, so the file comes from `workflow_ref`:
 * `owner/repo/.github/workflows/release.yml@refs/heads/main` (the workflow the run started, not a
 * reusable workflow it calls, which is `job_workflow_ref`).
 */
function githubJob(c: JwtPayload): CiJob | null {
  const repository = str(c.repository, 255);
  const workflowRef = str(c.workflow_ref);
  const repositoryId = id(c.repository_id);
  const ref = str(c.ref, 255);
  if (!repository || !workflowRef || !repositoryId || !ref) return null;
  const prefix = `${repository}/.github/workflows/`;
  const at = workflowRef.lastIndexOf('@');
  if (!workflowRef.startsWith(prefix) || at < prefix.length) return null;
  return {
    repository: repository.toLowerCase(),
    repositoryId,
    workflow: workflowRef.slice(prefix.length, at),
    environment: str(c.environment, 255),
    ref,
    details: { sha: str(c.sha, 64), run: id(c.run_id), actor: str(c.actor, 255), event: str(c.event_name, 64) },
  };
}

/**
 * GitLab CI/CD (gitlab.com or self-managed): `project_path`, `project_id`, `ref_path`, and the
 * pipeline's CI config from `ci_config_ref_uri`: `gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main`.
 * A config kept in another project (`other/project//ci.yml`) matches no publisher of this one.
 */
function gitlabJob(c: JwtPayload): CiJob | null {
  const repository = str(c.project_path, 255);
  const configUri = str(c.ci_config_ref_uri);
  const repositoryId = id(c.project_id);
  const ref = str(c.ref_path, 255);
  if (!repository || !configUri || !repositoryId || !ref) return null;
  const split = configUri.indexOf('//');
  const at = configUri.lastIndexOf('@');
  if (split < 0 || at < split) return null;
  const project = configUri.slice(configUri.indexOf('/') + 1, split);
  if (project.toLowerCase() !== repository.toLowerCase()) return null;
  return {
    repository: repository.toLowerCase(),
    repositoryId,
    workflow: configUri.slice(split + 2, at),
    environment: str(c.environment, 255),
    ref,
    details: { sha: str(c.sha, 64), run: id(c.pipeline_id), actor: str(c.user_login, 255), event: str(c.pipeline_source, 64) },
  };
}

/**
 * Any other CI (Buildkite, CircleCI, Jenkins, a forge of one's own): the claims the operator
 * named (TRUSTED_ISSUER_<NAME>_*_CLAIM), compared as they are. A claim named but missing refuses
 * the token.
 */
function customJob(names: CustomClaimNames, c: JwtPayload): CiJob | null {
  const optional = (claim: string | undefined, read: (v: unknown) => string | null): string | null | undefined => (claim === undefined ? null : (read(c[claim]) ?? undefined));
  const repository = str(c[names.repository], 255);
  const workflow = str(c[names.workflow], 255);
  const ref = optional(names.ref, (v) => str(v, 255));
  const repositoryId = optional(names.repositoryId, id);
  if (!repository || !workflow || ref === undefined || repositoryId === undefined) return null;
  const environment = names.environment ? str(c[names.environment], 255) : null;
  return { repository, repositoryId, workflow, environment, ref, details: { sha: null, run: null, actor: str(c.sub, 255), event: null } };
}

/** The job a verified ID token describes, or null when it lacks the claims its CI always sends. */
export function ciJobOf(issuer: Pick<TrustedIssuerConfig, 'claims' | 'claimNames'>, claims: JwtPayload): CiJob | null {
  switch (issuer.claims) {
    case 'github':
      return githubJob(claims);
    case 'gitlab':
      return gitlabJob(claims);
    default:
      return issuer.claimNames ? customJob(issuer.claimNames, claims) : null;
  }
}

/** What publishers may say, per layout (checked when one is registered), and examples for forms. */
export const PUBLISHER_SHAPES: Readonly<
  Record<CiClaimLayout, { repository: RegExp; workflow: RegExp; repositoryHint: string; workflowHint: string; repositoryExample: string; workflowExample: string }>
> = {
  github: {
    repository: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
    workflow: /^[A-Za-z0-9._-]{1,200}\.ya?ml$/,
    repositoryHint: 'owner/repo',
    workflowHint: 'the workflow file name in .github/workflows, e.g. release.yml',
    repositoryExample: 'owner/repo',
    workflowExample: 'release.yml',
  },
  gitlab: {
    repository: /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){1,20}$/,
    workflow: /^(?!.*\.\.)[A-Za-z0-9_./-]{1,250}\.ya?ml$/,
    repositoryHint: 'group/project (subgroups allowed)',
    workflowHint: 'the CI config path in the project, e.g. .gitlab-ci.yml',
    repositoryExample: 'group/project',
    workflowExample: '.gitlab-ci.yml',
  },
  custom: {
    repository: /^[\x21-\x7e]{1,255}$/,
    workflow: /^[\x21-\x7e]{1,255}$/,
    repositoryHint: "the value of the CI's repository claim, exactly",
    workflowHint: "the value of the CI's workflow claim, exactly",
    repositoryExample: 'acme/project',
    workflowExample: 'release',
  },
};

/** GitHub and GitLab names ignore case, so publishers and jobs are compared lower-case; a custom CI's as they are. */
export function normalRepository(layout: CiClaimLayout, repository: string): string {
  return layout === 'custom' ? repository : repository.toLowerCase();
}

/**
 * Whether `ref` matches a publisher's pattern: `*` stands for any run of characters, the rest is
 * literal. The greedy wildcard walk (no regular expression, so no backtracking blow-up).
 */
export function refMatches(pattern: string, ref: string): boolean {
  let p = 0;
  let r = 0;
  let star = -1;
  let mark = 0;
  while (r < ref.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = r;
    } else if (p < pattern.length && pattern[p] === ref[r]) {
      p++;
      r++;
    } else if (star >= 0) {
      p = star + 1;
      r = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
