import { Module } from '@nestjs/common';
import { PagesService } from './pages.service';

/**
 * The renderer of Latchkey's own pages (server-rendered, no external assets), for the page
 * controllers (WebPagesModule) and the auth module's login and "shown once" pages.
 */
@Module({
  providers: [PagesService],
  exports: [PagesService],
})
export class HtmlModule {}
