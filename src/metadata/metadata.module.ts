import { Module } from '@nestjs/common';
import { MetadataController } from './metadata.controller';

/** Example consumer of the global guards: no auth imports, decorators only. */
@Module({ controllers: [MetadataController] })
export class MetadataModule {}
