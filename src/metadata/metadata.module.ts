import { Module } from '@nestjs/common';
import { MetadataController } from './metadata.controller';
import { DeclareScopes } from '../common/auth/scope-catalog';

/** Example consumer of the global guards: no auth imports, decorators only. */
@DeclareScopes({
  'read:metadata': 'Read the metadata of nodes (Tiled)',
  'read:data': 'Read the data of nodes (Tiled)',
  'create:node': 'Create nodes (Tiled)',
  'write:metadata': 'Change the metadata of nodes (Tiled)',
  'write:data': 'Write the data of nodes (Tiled)',
  'delete:revision': 'Delete revisions of metadata (Tiled)',
  'delete:node': 'Delete nodes (Tiled)',
  register: 'Register external data (Tiled)',
  'read:webhooks': 'Read webhooks (Tiled)',
  'write:webhooks': 'Create and change webhooks (Tiled)',
})
@Module({ controllers: [MetadataController] })
export class MetadataModule {}
