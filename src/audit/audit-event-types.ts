/**
 * Every audit event type. Stable strings: filters and alerting depend on them. Add new types
 * here; `AuditService.record` accepts nothing else.
 */
export const AUDIT_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'session.revoked',
  'session.refresh_reuse',
  /** A session's credentials replaced (password change: new refresh token or cookie). */
  'session.rotated',
  'user.created',
  'user.deleted',
  'user.disabled',
  'user.enabled',
  'user.roles_changed',
  /** Groups replaced by an administrator, the CLI or an IdP's groups claim; details: before, after, by. */
  'user.groups_changed',
  'user.password_changed',
  'user.revoke_all',
  'api_key.created',
  'api_key.revoked',
  'deploy_token.created',
  'deploy_token.renamed',
  'deploy_token.rotated',
  'deploy_token.revoked',
  /** A CI workflow allowed to publish the plugin without a stored secret; details: issuer, repository, workflow, environment, ref. */
  'trusted_publisher.added',
  /** …and no longer (the deploy tokens it got are revoked with it). */
  'trusted_publisher.removed',
  'plugin.created',
  'plugin.maintainer_added',
  'plugin.maintainer_removed',
  'plugin.version_uploaded',
  'plugin.maintainer_invited',
  'plugin.invitation_accepted',
  'plugin.invitation_declined',
  'plugin.invitation_revoked',
  'identity.linked',
  'identity.unlinked',
  /** A custom role created or its scopes changed; details: scopes before and after. */
  'role.saved',
  'role.deleted',
  /**
   * One of our tokens reported leaked (GitHub secret scanning or the public report form), and
   * revoked if it still worked; details: kind, reporter, url, source, was_live.
   */
  'credential.leak_reported',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
