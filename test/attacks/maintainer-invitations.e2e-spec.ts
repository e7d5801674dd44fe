import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock';
import { bearer, createTestApp, TestApp } from '../utils/create-test-app';
import { FakeClock } from '../utils/fake-clock';

const API = '/api/v1';
type Auth = Record<string, string>;
interface Invitation {
  id: string;
  plugin: string;
  username: string;
  invited_by: string | null;
  created_at: string;
  expires_at: string;
}

/**
 * Attacks on plugin maintainership (issue 16 §7). Before: `PUT /plugins/{p}/maintainers/{user}`
 * made anyone a maintainer at once, and its 204 / 404 told which usernames exist. Now a maintainer
 * invites, the invitee (and only the invitee) accepts, and every username gets the same answer.
 */
describe('attack: plugin maintainer invitations', () => {
  const clock = new FakeClock();
  let t: TestApp;
  let anna: Auth;
  let bob: Auth;
  let mallory: Auth;

  beforeAll(async () => {
    t = await createTestApp({ PLUGIN_INVITATION_TTL: '3600' }, undefined, [{ provide: Clock, useValue: clock }]);
    for (const name of ['anna', 'bob', 'mallory']) await t.createUser(name);
    anna = bearer((await t.login('anna')).access_token);
    bob = bearer((await t.login('bob')).access_token);
    mallory = bearer((await t.login('mallory')).access_token);
  });
  afterAll(() => t.close());

  const maintainersOf = async (plugin: string) => (await t.http().get(`${API}/plugins/${plugin}`).set(anna).expect(200)).body.maintainers as string[];
  const invite = (plugin: string, username: string, as: Auth = anna) => t.http().post(`${API}/plugins/${plugin}/invitations`).set(as).send({ username });
  const pendingOf = async (as: Auth) => (await t.http().get(`${API}/plugin-invitations`).set(as).expect(200)).body as Invitation[];

  it("makes nobody a maintainer without the invitee's acceptance (the old direct add is gone)", async () => {
    await t.http().post(`${API}/plugins`).set(anna).send({ name: 'no-shortcut' }).expect(201);
    // The old route: a maintainer added someone at once.
    const direct = await t.http().put(`${API}/plugins/no-shortcut/maintainers/bob`).set(anna);
    expect(direct.status).toBe(404);
    expect(await maintainersOf('no-shortcut')).toEqual(['anna']);

    const sent = await invite('no-shortcut', 'bob').expect(201);
    expect(await maintainersOf('no-shortcut')).toEqual(['anna']);
    // Invited is not yet a maintainer: no deploy token, no audit log.
    await t.http().post(`${API}/plugins/no-shortcut/tokens`).set(bob).send({ description: 'ci' }).expect(403);
    await t.http().get(`${API}/plugins/no-shortcut/audit`).set(bob).expect(403);

    const mine = await pendingOf(bob);
    expect(mine).toEqual([expect.objectContaining({ id: sent.body.id, plugin: 'no-shortcut', username: 'bob', invited_by: 'anna' })]);
    const accepted = await t.http().post(`${API}/plugin-invitations/${sent.body.id}/accept`).set(bob).expect(200);
    expect(accepted.body).toMatchObject({ plugin: 'no-shortcut', username: 'bob' });
    expect(await maintainersOf('no-shortcut')).toEqual(['anna', 'bob']);
    expect(await pendingOf(bob)).toEqual([]);
    // Accepted once: a replay finds nothing.
    await t.http().post(`${API}/plugin-invitations/${sent.body.id}/accept`).set(bob).expect(404);

    const audit = await t.http().get(`${API}/plugins/no-shortcut/audit`).set(bob).expect(200);
    expect(audit.body.events.map((e: { type: string }) => e.type).reverse()).toEqual([
      'plugin.created',
      'plugin.maintainer_invited',
      'plugin.invitation_accepted',
      'plugin.maintainer_added',
    ]);
  });

  it('two maintainers inviting at once (and a double accept) get clear answers, never a 500; one invitation stays', async () => {
    await t.http().post(`${API}/plugins`).set(anna).send({ name: 'racing' }).expect(201);
    const sent = await Promise.all([1, 2, 3, 4, 5].map(() => invite('racing', 'bob')));
    expect(sent.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const pending = (await pendingOf(bob)).filter((i) => i.plugin === 'racing');
    expect(pending).toHaveLength(1);
    const accepts = await Promise.all([1, 2, 3].map(() => t.http().post(`${API}/plugin-invitations/${pending[0].id}/accept`).set(bob)));
    expect(accepts.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    expect(await maintainersOf('racing')).toEqual(['anna', 'bob']);
  });

  it('answers an invitation for an unknown username exactly as one for a real user (or a maintainer already)', async () => {
    await t.http().post(`${API}/plugins`).set(anna).send({ name: 'enumerate-me' }).expect(201);
    const answers = [await invite('enumerate-me', 'bob'), await invite('enumerate-me', 'no-such-user-xyz'), await invite('enumerate-me', 'anna')];
    const shape = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === null ? 'null' : typeof v]));
    for (const res of answers) {
      expect(res.status).toBe(201);
      expect(Object.keys(res.headers).filter((h) => !['date', 'etag', 'content-length', 'x-tiled-request-id', 'x-request-id', 'server-timing'].includes(h)).sort()).toEqual(
        Object.keys(answers[0].headers).filter((h) => !['date', 'etag', 'content-length', 'x-tiled-request-id', 'x-request-id', 'server-timing'].includes(h)).sort(),
      );
      expect(shape(res.body)).toEqual(shape(answers[0].body));
      expect(res.body).toMatchObject({ plugin: 'enumerate-me', invited_by: 'anna' });
      expect(new Date(res.body.expires_at).getTime() - new Date(res.body.created_at).getTime()).toBe(3600 * 1000);
    }
    // The maintainers' list and the plugin's audit log show the three alike (no user id for any).
    const pending = (await t.http().get(`${API}/plugins/enumerate-me/invitations`).set(anna).expect(200)).body as Invitation[];
    expect(pending.map((i) => i.username).sort()).toEqual(['anna', 'bob', 'no-such-user-xyz']);
    for (const i of pending) expect(shape(i as unknown as Record<string, unknown>)).toEqual(shape(pending[0] as unknown as Record<string, unknown>));
    const audit = await t.http().get(`${API}/plugins/enumerate-me/audit?type=plugin.maintainer_invited`).set(anna).expect(200);
    expect(audit.body.events).toHaveLength(3);
    for (const e of audit.body.events) {
      expect(e.user_id).toBeNull();
      expect(e.subject.type).toBe('plugin_invitation');
    }
    // A malformed name is a 422 for its form alone, whoever asks.
    await invite('enumerate-me', 'Not A Name!').expect(422);

    // The invitation to an unknown name never becomes acceptable, not even by a later user of that name.
    await t.createUser('no-such-user-xyz');
    const late = bearer((await t.login('no-such-user-xyz')).access_token);
    expect(await pendingOf(late)).toEqual([]);
    const unknownId = pending.find((i) => i.username === 'no-such-user-xyz')!.id;
    await t.http().post(`${API}/plugin-invitations/${unknownId}/accept`).set(late).expect(404);
    expect(await maintainersOf('enumerate-me')).toEqual(['anna']);
  });

  it('does not tell existing usernames from unknown ones through removing a maintainer either (anyone may create a plugin to ask)', async () => {
    await t.http().post(`${API}/plugins`).set(mallory).send({ name: 'probe' }).expect(201);
    const real = await t.http().delete(`${API}/plugins/probe/maintainers/bob`).set(mallory);
    const unknown = await t.http().delete(`${API}/plugins/probe/maintainers/no-such-user-abc`).set(mallory);
    expect(real.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(real.body.code);
    expect(unknown.body.message.replace('no-such-user-abc', 'X')).toBe(real.body.message.replace('bob', 'X'));
  });

  it("refuses an outsider who accepts someone else's invitation, by its id or a guessed one", async () => {
    await t.http().post(`${API}/plugins`).set(anna).send({ name: 'not-yours' }).expect(201);
    const sent = await invite('not-yours', 'bob').expect(201);
    const id = sent.body.id as string;

    const stolen = await t.http().post(`${API}/plugin-invitations/${id}/accept`).set(mallory);
    const guessed = await t.http().post(`${API}/plugin-invitations/${randomUUID()}/accept`).set(mallory);
    const junk = await t.http().post(`${API}/plugin-invitations/not-a-uuid/accept`).set(mallory);
    for (const res of [stolen, guessed, junk]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'INVITATION_NOT_FOUND', message: stolen.body.message });
    }
    // The inviting maintainer cannot accept it for bob either, nor can mallory decline it.
    await t.http().post(`${API}/plugin-invitations/${id}/accept`).set(anna).expect(404);
    await t.http().post(`${API}/plugin-invitations/${id}/decline`).set(mallory).expect(404);
    // Mallory cannot see it, nor revoke it through a plugin she maintains.
    expect(await pendingOf(mallory)).toEqual([]);
    await t.http().get(`${API}/plugins/not-yours/invitations`).set(mallory).expect(403);
    await t.http().post(`${API}/plugins`).set(mallory).send({ name: 'mallorys' }).expect(201);
    await t.http().delete(`${API}/plugins/mallorys/invitations/${id}`).set(mallory).expect(404);

    // A deploy token never answers an invitation, even its plugin's maintainer's.
    const token = (await t.http().post(`${API}/plugins/not-yours/tokens`).set(anna).send({ description: 'ci' }).expect(201)).body.token as string;
    const byToken = await t.http().post(`${API}/plugin-invitations/${id}/accept`).set(bearer(token));
    expect([401, 403]).toContain(byToken.status);

    expect(await maintainersOf('not-yours')).toEqual(['anna']);
    // Still there for bob, who declines it: then it is gone.
    expect((await pendingOf(bob)).map((i) => i.id)).toContain(id);
    await t.http().post(`${API}/plugin-invitations/${id}/decline`).set(bob).expect(204);
    await t.http().post(`${API}/plugin-invitations/${id}/accept`).set(bob).expect(404);
    expect(await maintainersOf('not-yours')).toEqual(['anna']);
  });

  it('refuses a revoked or an expired invitation', async () => {
    await t.http().post(`${API}/plugins`).set(anna).send({ name: 'withdrawn' }).expect(201);
    const revoked = await invite('withdrawn', 'bob').expect(201);
    await t.http().delete(`${API}/plugins/withdrawn/invitations/${revoked.body.id}`).set(anna).expect(204);
    await t.http().delete(`${API}/plugins/withdrawn/invitations/${revoked.body.id}`).set(anna).expect(404);
    const late = await t.http().post(`${API}/plugin-invitations/${revoked.body.id}/accept`).set(bob).expect(404);
    expect(late.body.code).toBe('INVITATION_NOT_FOUND');

    const expiring = await invite('withdrawn', 'bob').expect(201);
    clock.advance(3601);
    expect((await pendingOf(bob)).map((i) => i.id)).not.toContain(expiring.body.id);
    expect((await t.http().get(`${API}/plugins/withdrawn/invitations`).set(anna).expect(200)).body).toEqual([]);
    const expired = await t.http().post(`${API}/plugin-invitations/${expiring.body.id}/accept`).set(bob).expect(410);
    expect(expired.body).toMatchObject({ code: 'INVITATION_EXPIRED' });
    expect(await maintainersOf('withdrawn')).toEqual(['anna']);

    // A new invitation replaces the expired one and works.
    const fresh = await invite('withdrawn', 'bob').expect(201);
    await t.http().post(`${API}/plugin-invitations/${fresh.body.id}/accept`).set(bob).expect(200);
    expect(await maintainersOf('withdrawn')).toEqual(['anna', 'bob']);
  });
});
