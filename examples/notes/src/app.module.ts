import { Module } from '@nestjs/common';
import { LatchkeyModule } from '@latchkey/nest';
import { NotesController } from './notes.controller';

@Module({
  imports: [
    LatchkeyModule.forRoot({
      url: process.env.LATCHKEY_URL ?? 'http://127.0.0.1:3000',
      // An introspector service principal's API key (see docs/resource-servers.md).
      apiKey: process.env.LATCHKEY_API_KEY,
      introspectionCacheTtl: process.env.LATCHKEY_INTROSPECTION_CACHE_TTL ? Number(process.env.LATCHKEY_INTROSPECTION_CACHE_TTL) : undefined,
    }),
  ],
  controllers: [NotesController],
})
export class AppModule {}
