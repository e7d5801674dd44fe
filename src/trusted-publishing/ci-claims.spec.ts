import { ciJobOf, refMatches } from './ci-claims';

describe('CI ID-token claims', () => {
  it("GitHub: the workflow file comes from workflow_ref (the `workflow` claim is the display name)", () => {
    const job = ciJobOf({ claims: 'github' }, {
      repository: 'Acme/napari-foo',
      repository_id: '74',
      workflow: 'Release',
      workflow_ref: 'Acme/napari-foo/.github/workflows/release.yml@refs/tags/v1.0.0',
      job_workflow_ref: 'other/shared/.github/workflows/publish.yml@refs/heads/main',
      ref: 'refs/tags/v1.0.0',
      environment: 'pypi',
      run_id: '42',
    });
    expect(job).toMatchObject({ repository: 'acme/napari-foo', repositoryId: '74', workflow: 'release.yml', ref: 'refs/tags/v1.0.0', environment: 'pypi' });
    // A workflow_ref of another repository is not this repository's workflow.
    expect(ciJobOf({ claims: 'github' }, { repository: 'acme/x', repository_id: '1', ref: 'refs/heads/main', workflow_ref: 'evil/x/.github/workflows/r.yml@refs/heads/main' })).toBeNull();
    expect(ciJobOf({ claims: 'github' }, { repository: 'acme/x', ref: 'refs/heads/main', workflow_ref: 'acme/x/.github/workflows/r.yml@refs/heads/main' })).toBeNull(); // no repository_id
  });

  it('GitLab: project path and id, ref_path, the CI config of this project only', () => {
    const claims = { project_path: 'group/sub/proj', project_id: 20, ref_path: 'refs/heads/main', ci_config_ref_uri: 'gitlab.com/group/sub/proj//ci/release.yml@refs/heads/main' };
    expect(ciJobOf({ claims: 'gitlab' }, claims)).toMatchObject({ repository: 'group/sub/proj', repositoryId: '20', workflow: 'ci/release.yml', ref: 'refs/heads/main', environment: null });
    expect(ciJobOf({ claims: 'gitlab' }, { ...claims, ci_config_ref_uri: 'gitlab.com/other/proj//ci/release.yml@refs/heads/main' })).toBeNull();
    expect(ciJobOf({ claims: 'gitlab' }, { ...claims, ci_config_ref_uri: 'nonsense' })).toBeNull();
  });

  it('a custom CI: the named claims, as sent; a named claim that is missing refuses the token', () => {
    const issuer = { claims: 'custom' as const, claimNames: { repository: 'pipeline_slug', workflow: 'step_key', ref: 'build_branch', repositoryId: 'pipeline_id' } };
    const claims = { pipeline_slug: 'Napari-Foo', step_key: 'publish', build_branch: 'main', pipeline_id: 'b2c3' };
    expect(ciJobOf(issuer, claims)).toMatchObject({ repository: 'Napari-Foo', workflow: 'publish', ref: 'main', repositoryId: 'b2c3', environment: null });
    expect(ciJobOf(issuer, { ...claims, build_branch: undefined })).toBeNull();
    expect(ciJobOf(issuer, { ...claims, pipeline_id: undefined })).toBeNull();
    expect(ciJobOf({ claims: 'custom', claimNames: { repository: 'pipeline_slug', workflow: 'step_key' } }, { pipeline_slug: 'x', step_key: 'y' })).toMatchObject({ ref: null, repositoryId: null });
  });

  it('ref patterns: `*` is any run of characters, everything else literal', () => {
    expect(refMatches('refs/tags/v*', 'refs/tags/v1.2.3')).toBe(true);
    expect(refMatches('refs/tags/v*', 'refs/heads/v1')).toBe(false);
    expect(refMatches('refs/heads/main', 'refs/heads/main')).toBe(true);
    expect(refMatches('refs/heads/main', 'refs/heads/main2')).toBe(false);
    expect(refMatches('refs/heads/release/*/final', 'refs/heads/release/2.0/final')).toBe(true);
    expect(refMatches('refs/tags/v1.?', 'refs/tags/v1.x')).toBe(false); // `?` and `.` are literal
    expect(refMatches('refs/tags/v1.?', 'refs/tags/v1.?')).toBe(true);
    // No backtracking blow-up: many stars against a long near-miss (a regular expression would
    // run past the test's timeout here).
    expect(refMatches(`refs/${'*a'.repeat(120)}b`, `refs/${'a'.repeat(240)}`)).toBe(false);
  });
});
