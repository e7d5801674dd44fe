import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { PagesController } from './pages.controller';
import { PagesService } from './pages.service';

/** Latchkey's own pages for people (server-rendered, no external assets). */
@Module({
  imports: [UsersModule],
  controllers: [PagesController],
  providers: [PagesService],
  exports: [PagesService],
})
export class WebModule {}
