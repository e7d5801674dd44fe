/**
 * A CI system's OIDC issuer for trusted-publishing tests: an HTTP server on 127.0.0.1 that
 * serves discovery and JWKS the way GitHub Actions (`/.well-known/jwks`) or GitLab
 * (`/oauth/discovery/keys`) do, and signs ID tokens with the claims their jobs get (RS256, `kid`).
 * Like the real ones, it issues tokens only to "jobs": here the test, through `mint`.
 *
 *   const github = await startCiIssuer('github');
 *   const idToken = github.mint(github.job({ repository: 'acme/foo', workflow: 'release.yml', ref: 'refs/tags/v1.0.0' }), { aud: 'latchkey' });
 *   github.rotateKey(); // a new signing key; the old one leaves the JWKS
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export type CiLayout = 'github' | 'gitlab';

/** What a test says about the job; the rest of the claims are filled in as the CI would. */
export interface CiJobSpec {
  repository: string;
  workflow: string;
  ref: string;
  environment?: string;
  repositoryId?: string;
  /** GitLab: the project the CI config lives in (default: the repository itself). */
  configProject?: string;
}

export interface MintOptions {
  aud?: string | string[];
  /** Seconds the token lives (GitHub: about 5 minutes, the default). */
  ttl?: number;
  /** Seconds to move `iat`/`nbf`/`exp` by (negative: issued in the past). */
  shift?: number;
  /** Sign with this key and kid instead of the current one (an attacker's, a retired one). */
  key?: { kid: string; privateKey: KeyObject };
  /** Leave claims out (`jti`…). */
  omit?: string[];
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(kid = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

export class CiIssuer {
  issuer = '';
  /** How often each path was fetched. */
  readonly fetches = { discovery: 0, jwks: 0 };
  private server?: Server;
  private keys: SigningKey[] = [newSigningKey()];
  /** GitHub's ID-token request API: request token → the job it stands for. */
  private readonly runnerJobs = new Map<string, CiJobSpec>();

  constructor(
    readonly layout: CiLayout,
    private readonly now: () => number = Date.now,
  ) {}

  get jwksPath(): string {
    return this.layout === 'github' ? '/.well-known/jwks' : '/oauth/discovery/keys';
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        this.fetches.discovery++;
        return send(200, {
          issuer: this.issuer,
          jwks_uri: `${this.issuer}${this.jwksPath}`,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid'],
        });
      }
      if (req.url === this.jwksPath) {
        this.fetches.jwks++;
        return send(200, { keys: this.keys.map((k) => ({ ...(k.publicKey.export({ format: 'jwk' }) as object), kid: k.kid, use: 'sig', alg: 'RS256' })) });
      }
      const url = new URL(req.url ?? '/', this.issuer);
      if (url.pathname === '/_runner/idtoken') {
        // As a GitHub Actions job calls it: `curl -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=…"`.
        const spec = this.runnerJobs.get(/^bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
        if (!spec) return send(401, { message: 'Bad credentials' });
        const [owner] = spec.repository.split('/');
        return send(200, { count: 1, value: this.mint(this.job(spec), { aud: url.searchParams.get('audience') ?? `https://github.com/${owner}` }) });
      }
      send(404, { message: 'Not Found' });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * What GitHub gives a job that has `permissions: id-token: write`: ACTIONS_ID_TOKEN_REQUEST_URL
   * and ACTIONS_ID_TOKEN_REQUEST_TOKEN, with which it asks for ID tokens describing `spec`.
   */
  runner(spec: CiJobSpec): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string } {
    const token = randomUUID();
    this.runnerJobs.set(token, spec);
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${this.issuer}/_runner/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: token };
  }

  /** The current signing key. */
  get currentKey(): SigningKey {
    return this.keys[0];
  }

  /** Signs with a new key from now on; the old key leaves the JWKS (the issuer rotated it away). */
  rotateKey(): SigningKey {
    const retired = this.keys[0];
    this.keys = [newSigningKey()];
    return retired;
  }

  /** The claims this CI gives a job like `spec` (GitHub's or GitLab's layout). */
  job(spec: CiJobSpec): Record<string, unknown> {
    const [owner] = spec.repository.split('/');
    const env = spec.environment;
    if (this.layout === 'github') {
      const ref = spec.ref;
      return {
        sub: env ? `repo:${spec.repository}:environment:${env}` : `repo:${spec.repository}:ref:${ref}`,
        ...(env ? { environment: env } : {}),
        ref,
        ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
        sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
        repository: spec.repository,
        repository_id: spec.repositoryId ?? '740001',
        repository_owner: owner,
        repository_owner_id: '650001',
        repository_visibility: 'public',
        run_id: '9000000001',
        run_number: '12',
        run_attempt: '1',
        actor: 'octocat',
        actor_id: '583231',
        workflow: 'Release', // the workflow's display name, not its file
        event_name: 'push',
        workflow_ref: `${spec.repository}/.github/workflows/${spec.workflow}@${ref}`,
        job_workflow_ref: `${spec.repository}/.github/workflows/${spec.workflow}@${ref}`,
        runner_environment: 'github-hosted',
      };
    }
    const refName = spec.ref.replace(/^refs\/(heads|tags)\//, '');
    const host = new URL(this.issuer).host;
    return {
      sub: `project_path:${spec.repository}:ref_type:${spec.ref.startsWith('refs/tags/') ? 'tag' : 'branch'}:ref:${refName}`,
      namespace_id: '72',
      namespace_path: owner,
      project_id: spec.repositoryId ?? '20',
      project_path: spec.repository,
      user_id: '42',
      user_login: 'maintainer',
      pipeline_id: '1212',
      pipeline_source: 'push',
      job_id: '3434',
      ref: refName,
      ref_type: spec.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      ref_path: spec.ref,
      ref_protected: 'true',
      ...(env ? { environment: env, environment_protected: 'true', deployment_tier: 'production' } : {}),
      sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      project_visibility: 'public',
      ci_config_ref_uri: `${host}/${spec.configProject ?? spec.repository}//${spec.workflow}@${spec.ref}`,
      ci_config_sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      runner_environment: 'gitlab-hosted',
    };
  }

  /** An ID token with `claims`, issued now by this issuer (a fresh `jti`), as the CI hands it to the job. */
  mint(claims: Record<string, unknown>, options: MintOptions = {}): string {
    const iat = Math.floor(this.now() / 1000) + (options.shift ?? 0);
    const payload: Record<string, unknown> = {
      jti: randomUUID(),
      iss: this.issuer,
      aud: options.aud ?? 'latchkey',
      iat,
      nbf: iat - 5,
      exp: iat + (options.ttl ?? 300),
      ...claims,
    };
    for (const name of options.omit ?? []) delete payload[name];
    const key = options.key ?? this.currentKey;
    return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: key.kid });
  }
}

export async function startCiIssuer(layout: CiLayout, now?: () => number): Promise<CiIssuer> {
  return new CiIssuer(layout, now).start();
}
