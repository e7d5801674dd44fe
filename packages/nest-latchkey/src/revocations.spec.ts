import type { LatchkeyClient } from './latchkey-client';
import { LatchkeyRevocations } from './revocations';

type Apply = { apply(event: unknown): void };

describe('LatchkeyRevocations', () => {
  let forgotten = 0;
  const client = { apiKey: undefined, forgetIntrospections: () => forgotten++ } as unknown as LatchkeyClient;
  const claims = { sub: 'u1', sid: 's1', epoch: 0, roles: ['user', 'editor'] };

  it('refuses what the feed revoked: an older epoch, a disabled or deleted user, a revoked session; re-enabling lifts the status only', () => {
    const r = new LatchkeyRevocations(client);
    const feed = r as unknown as Apply;
    expect(r.refusal(claims)).toBeUndefined();
    feed.apply({ kind: 'session', sid: 's2' });
    expect(r.refusal(claims)).toBeUndefined();
    feed.apply({ kind: 'session', sid: 's1' });
    expect(r.refusal(claims)).toBe('This token has been revoked.');
    expect(r.refusal({ ...claims, sid: 's3' })).toBeUndefined();
    feed.apply({ kind: 'user', sub: 'u1', epoch: 1, status: 'active', roles: ['user', 'editor'] });
    expect(r.refusal({ ...claims, sid: 's3' })).toBe('This token has been revoked.');
    expect(r.refusal({ ...claims, sid: 's3', epoch: 1 })).toBeUndefined();
    feed.apply({ kind: 'user', sub: 'u1', epoch: 1, status: 'disabled', roles: ['user', 'editor'] });
    expect(r.refusal({ ...claims, sid: 's3', epoch: 1 })).toBe('This account is disabled.');
    feed.apply({ kind: 'user', sub: 'u1', epoch: 1, status: 'active', roles: ['user', 'editor'] });
    expect(r.refusal({ ...claims, sid: 's3', epoch: 1 })).toBeUndefined();
    // An event replayed out of date never lowers the epoch.
    feed.apply({ kind: 'user', sub: 'u1', epoch: 0, status: 'active', roles: ['user', 'editor'] });
    expect(r.refusal({ ...claims, sid: 's3', epoch: 0 })).toBe('This token has been revoked.');
  });

  it('drops a role taken away, and forgets cached introspection answers on user, key and token events', () => {
    const r = new LatchkeyRevocations(client);
    const feed = r as unknown as Apply;
    expect(r.currentRoles('u1', ['user', 'editor'])).toEqual(['user', 'editor']);
    const before = forgotten;
    feed.apply({ kind: 'user', sub: 'u1', epoch: 0, status: 'active', roles: ['user'] });
    expect(r.currentRoles('u1', ['user', 'editor'])).toEqual(['user']);
    feed.apply({ kind: 'api_key', key_id: 'k' });
    feed.apply({ kind: 'deploy_token', token_id: 't' });
    feed.apply({ kind: 'session', sid: 'x' });
    expect(forgotten - before).toBe(3);
  });
});
