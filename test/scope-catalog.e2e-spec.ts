import { Controller, Get, Module } from '@nestjs/common';
import { RequireScopes } from '../src/common/auth/decorators';
import { DeclareScopes } from '../src/common/auth/scope-catalog';
import { bearer, createTestApp, type TestApp } from './utils/create-test-app';

@Controller('notes-typo')
class TypoController {
  @Get()
  @RequireScopes('notes:raed')
  list() {
    return [];
  }
}

@DeclareScopes({ 'notes:read': 'Read notes' })
@Module({ controllers: [TypoController] })
class TypoModule {}

@Controller('notes-ok')
class NotesController {
  @Get()
  @RequireScopes('notes:read')
  list() {
    return [];
  }
}

@DeclareScopes({ 'notes:read': 'Read notes' })
@Module({ controllers: [NotesController] })
class NotesModule {}

/** Modules declare their scopes (@DeclareScopes); an undeclared one in @RequireScopes stops the boot. */
describe('scopes modules declare', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('an undeclared scope in @RequireScopes stops the boot, naming the route and the scope', async () => {
    await expect(createTestApp({}, undefined, [], [TypoModule])).rejects.toThrow(
      /@RequireScopes\('notes:raed'\) on TypoController\.list: no module declares "notes:raed"/,
    );
  });

  it('declared scopes show in the OpenAPI document (the password flow) and in whoami, which keeps Tiled\'s shape', async () => {
    t = await createTestApp({}, undefined, [], [NotesModule]);
    const doc = (await t.http().get('/openapi.json').expect(200)).body;
    const scopes = doc.components.securitySchemes.OAuth2PasswordBearer.flows.password.scopes as Record<string, string>;
    expect(scopes).toMatchObject({ 'notes:read': 'Read notes', 'read:account': expect.stringMatching(/your own account/), introspect: expect.any(String) });
    await t.createUser('ann');
    const { access_token } = await t.login('ann');
    const who = (await t.http().get('/api/v1/auth/whoami').set(bearer(access_token)).expect(200)).body;
    expect(who.roles).toEqual([{ name: 'user', scopes: expect.arrayContaining(['read:data']) }]); // Tiled's shape untouched
    expect(who.scope_descriptions).toMatchObject({ 'read:data': 'Read the data of nodes (Tiled)', 'write:plugins': expect.any(String) });
    expect(Object.keys(who.scope_descriptions)).not.toContain('admin:apikeys');
  });
});
