import { Controller, Get, Module } from '@nestjs/common';
import { AccessTags, RequireScopes } from '../../src/common/auth/decorators';

/** What a data module of another team would hold: entries, each with the access tags it carries. */
export const DATASETS = [
  { id: 'calibration', tags: ['public'] },
  { id: 'scan-7', tags: ['beamline-7'] },
  { id: 'scan-8', tags: ['beamline-8'] },
  { id: 'shared', tags: ['beamline-7', 'beamline-8'] },
] as const;

/**
 * A test-only consumer of the guards that enforces access tags, written as docs/guards.md tells
 * another module's author to: decorators from `common/auth` and nothing else. A tag-restricted API
 * key sees only the entries carrying one of its tags; every other credential sees them all.
 */
@Controller('test-datasets')
export class TaggedDatasetsController {
  @Get()
  @RequireScopes('read:metadata')
  list(@AccessTags() tags: readonly string[] | null) {
    return DATASETS.filter((d) => tags === null || d.tags.some((tag) => tags.includes(tag))).map((d) => d.id);
  }
}

@Module({ controllers: [TaggedDatasetsController] })
export class TaggedDatasetsModule {}
