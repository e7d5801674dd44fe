export type CredentialStatus = 'active' | 'expired' | 'revoked';

/** The status of a stored credential (API key, deploy token) at `now`. */
export function credentialStatus(c: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date()): CredentialStatus {
  if (c.revokedAt) return 'revoked';
  if (c.expiresAt && c.expiresAt <= now) return 'expired';
  return 'active';
}
