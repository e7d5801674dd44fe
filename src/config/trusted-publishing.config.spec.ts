import { loadTrustedPublishingConfig } from './trusted-publishing.config';

describe('trusted publishing settings', () => {
  it('defaults: GitHub Actions and GitLab.com, the audience Latchkey signs as, 15-minute tokens', () => {
    const c = loadTrustedPublishingConfig({}, 'https://latchkey.example.org');
    expect(c.issuers.map((i) => [i.name, i.issuer, i.claims])).toEqual([
      ['github', 'https://token.actions.githubusercontent.com', 'github'],
      ['gitlab', 'https://gitlab.com', 'gitlab'],
    ]);
    expect(c).toMatchObject({ audience: 'https://latchkey.example.org', tokenTtl: 900, clockSkew: 60 });
    expect(loadTrustedPublishingConfig({ TRUSTED_PUBLISHING_ISSUERS: 'none' }, 'latchkey').issuers).toEqual([]);
  });

  it('adds an operator\'s issuers (self-managed GitLab, GitHub Enterprise) and moves a preset', () => {
    const c = loadTrustedPublishingConfig(
      {
        TRUSTED_PUBLISHING_ISSUERS: 'github, gitlab-corp',
        TRUSTED_ISSUER_GITHUB_URL: 'https://ghe.example.org/_services/token/',
        TRUSTED_ISSUER_GITLAB_CORP_URL: 'https://gitlab.example.org',
        TRUSTED_ISSUER_GITLAB_CORP_CLAIMS: 'gitlab',
        TRUSTED_ISSUER_GITLAB_CORP_DISPLAY_NAME: 'Corp GitLab',
        TRUSTED_PUBLISHING_AUDIENCE: 'latchkey-prod',
        TRUSTED_PUBLISHING_TOKEN_TTL: '600',
      },
      'latchkey',
    );
    expect(c.issuers).toEqual([
      { name: 'github', displayName: 'GitHub Actions', issuer: 'https://ghe.example.org/_services/token', claims: 'github' },
      { name: 'gitlab-corp', displayName: 'Corp GitLab', issuer: 'https://gitlab.example.org', claims: 'gitlab' },
    ]);
    expect(c).toMatchObject({ audience: 'latchkey-prod', tokenTtl: 600 });
  });

  it('reads the claim names of a custom CI', () => {
    const c = loadTrustedPublishingConfig(
      {
        TRUSTED_PUBLISHING_ISSUERS: 'buildkite',
        TRUSTED_ISSUER_BUILDKITE_URL: 'https://agent.buildkite.com',
        TRUSTED_ISSUER_BUILDKITE_CLAIMS: 'custom',
        TRUSTED_ISSUER_BUILDKITE_REPOSITORY_CLAIM: 'pipeline_slug',
        TRUSTED_ISSUER_BUILDKITE_WORKFLOW_CLAIM: 'step_key',
        TRUSTED_ISSUER_BUILDKITE_REF_CLAIM: 'build_branch',
      },
      'latchkey',
    );
    expect(c.issuers[0]).toEqual({
      name: 'buildkite',
      displayName: 'buildkite',
      issuer: 'https://agent.buildkite.com',
      claims: 'custom',
      claimNames: { repository: 'pipeline_slug', workflow: 'step_key', ref: 'build_branch', environment: undefined, repositoryId: undefined },
    });
  });

  it.each([
    [{ TRUSTED_PUBLISHING_ISSUERS: 'ci', TRUSTED_ISSUER_CI_URL: 'https://ci.example.org', TRUSTED_ISSUER_CI_CLAIMS: 'custom', TRUSTED_ISSUER_CI_WORKFLOW_CLAIM: 'job' }, 'TRUSTED_ISSUER_CI_REPOSITORY_CLAIM: required'],
    [{ TRUSTED_PUBLISHING_ISSUERS: 'Corp' }, 'TRUSTED_PUBLISHING_ISSUERS'],
    [{ TRUSTED_PUBLISHING_ISSUERS: 'corp', TRUSTED_ISSUER_CORP_CLAIMS: 'gitlab' }, 'TRUSTED_ISSUER_CORP_URL'],
    [{ TRUSTED_PUBLISHING_ISSUERS: 'corp', TRUSTED_ISSUER_CORP_URL: 'https://ci.example.org' }, 'TRUSTED_ISSUER_CORP_CLAIMS'],
    [{ TRUSTED_PUBLISHING_ISSUERS: 'github,mirror', TRUSTED_ISSUER_MIRROR_URL: 'https://token.actions.githubusercontent.com', TRUSTED_ISSUER_MIRROR_CLAIMS: 'github' }, 'listed twice'],
    [{ TRUSTED_PUBLISHING_TOKEN_TTL: '7200' }, 'TRUSTED_PUBLISHING_TOKEN_TTL: seconds, 60 to 3600'],
    [{ TRUSTED_PUBLISHING_TOKEN_TTL: '30' }, 'TRUSTED_PUBLISHING_TOKEN_TTL'],
    [{ TRUSTED_PUBLISHING_AUDIENCE: 'two words' }, 'TRUSTED_PUBLISHING_AUDIENCE'],
  ])('refuses %j, naming the setting', (env, name) => {
    expect(() => loadTrustedPublishingConfig(env, 'latchkey')).toThrow(new RegExp(`^Invalid configuration:\\n.*${name}`, 's'));
  });

  it('keeps the token lifetime within PLUGIN_TOKEN_MAX_LIFETIME', () => {
    expect(() => loadTrustedPublishingConfig({}, 'latchkey', 300)).toThrow(/TRUSTED_PUBLISHING_TOKEN_TTL: seconds, 60 to 300 \(PLUGIN_TOKEN_MAX_LIFETIME\)/);
    expect(loadTrustedPublishingConfig({ TRUSTED_PUBLISHING_TOKEN_TTL: '300' }, 'latchkey', 300).tokenTtl).toBe(300);
  });
});
