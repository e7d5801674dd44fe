import { And, IsNull, LessThanOrEqual, MoreThan } from 'typeorm';

export type CredentialStatus = 'active' | 'expired' | 'revoked';

/** The status of a stored credential (API key, deploy token) at `now`. */
export function credentialStatus(c: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date()): CredentialStatus {
  if (c.revokedAt) return 'revoked';
  if (c.expiresAt && c.expiresAt <= now) return 'expired';
  return 'active';
}

/** A live credential that expires within this many days is flagged: lists, whoami, pages, CLI. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Whether a credential still works at `now` but expires within `days` (EXPIRY_WARNING_DAYS): what
 * an owner should renew or replace before a program using it starts failing.
 */
export function expiresSoon(c: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date(), days = EXPIRY_WARNING_DAYS): boolean {
  return credentialStatus(c, now) === 'active' && c.expiresAt !== null && c.expiresAt.getTime() - now.getTime() <= days * DAY_MS;
}

/** A `find` condition: live (not revoked) and expiring after `now` but within `days` (API keys, deploy tokens). */
export function expiringWithin(now: Date, days: number) {
  return { revokedAt: IsNull(), expiresAt: And(MoreThan(now), LessThanOrEqual(new Date(now.getTime() + days * DAY_MS))) };
}

/**
 * The SQL condition matching rows of `status` at `now`, for a table with `revoked_at` and
 * `expires_at` columns (API keys, deploy tokens, sessions) under `alias`. Same rule as
 * `credentialStatus`, so a filtered listing agrees with the status it shows.
 */
export function credentialStatusCondition(alias: string, status: CredentialStatus, now: Date): [string, { now: Date }] {
  const revoked = `${alias}.revoked_at IS NOT NULL`;
  const expired = `${alias}.expires_at IS NOT NULL AND ${alias}.expires_at <= :now`;
  switch (status) {
    case 'revoked':
      return [revoked, { now }];
    case 'expired':
      return [`${alias}.revoked_at IS NULL AND ${expired}`, { now }];
    default:
      return [`${alias}.revoked_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > :now)`, { now }];
  }
}
