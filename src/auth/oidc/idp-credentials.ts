import type { Repository } from 'typeorm';
import type { UserCredentialRef, UserPrincipal } from '../../common/auth/principal';
import { scopesForRoles } from '../../common/auth/scopes';
import { AppError, unauthorized } from '../../common/errors/app-error';
import type { UserState } from '../../users/user-state.cache';
import type { OfflineTokenFloor } from './offline-token-grant.entity';

/**
 * What the two IdP-derived Bearer credentials (offline tokens, the IdP's access tokens) share:
 * the user they act for, checked on every use against the user's current state.
 */
export interface IdpCredentialOwner {
  readonly userId: string;
  /** The user's epoch when the credential was accepted: any other epoch now means a revoke-all came after. */
  readonly epoch: number;
}

/**
 * The Principal of an accepted IdP credential, or 401: the user is gone, disabled, or revoked
 * everything after it was accepted (then `revoked()` runs first, so the caller forgets it).
 * Scopes are the user's roles' (an IdP credential carries no Latchkey scopes of its own).
 */
export function idpCredentialPrincipal(owner: IdpCredentialOwner, state: UserState, credential: UserCredentialRef, revoked: () => void): UserPrincipal {
  if (!state.exists) throw unauthorized('AUTH_INVALID_TOKEN', 'Principal no longer exists.');
  if (state.epoch !== owner.epoch) {
    revoked();
    throw idpCredentialRevoked();
  }
  if (state.status !== 'active') throw unauthorized('AUTH_USER_INACTIVE', 'This account is disabled.');
  return {
    kind: 'user',
    userId: owner.userId,
    username: state.username,
    roles: state.roles,
    groups: state.groups,
    scopes: scopesForRoles(state.roles),
    credential,
  };
}

/** Whether an IdP token issued at `issuedAt` (seconds) predates the user's last revoke-all (offline_token_floors). */
export async function issuedBeforeRevokeAll(floors: Repository<OfflineTokenFloor>, userId: string, issuedAt: number): Promise<boolean> {
  const floor = await floors.findOne({ where: { userId } });
  return !!floor && issuedAt < Math.floor(floor.notBefore.getTime() / 1000);
}

export function idpCredentialRefused(): AppError {
  return unauthorized('AUTH_INVALID_TOKEN', 'Could not validate credentials');
}

export function idpCredentialRevoked(): AppError {
  return unauthorized('AUTH_INVALID_TOKEN', 'This token has been revoked.');
}
