import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiGoneResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireScopes } from '../common/auth/decorators';
import { RevocationFeedPageDto, RevocationFeedQueryDto } from './dto/revocation-feed.dto';
import { parseCursor, RevocationFeed } from './revocation-feed.service';

@ApiTags('auth')
@ApiSecurity('Apikey')
@ApiBearerAuth()
@Controller('auth')
export class RevocationFeedController {
  constructor(private readonly feed: RevocationFeed) {}

  /** What was revoked since a cursor, for services that verify access tokens themselves (docs/tokens-and-sessions.md). */
  @Get('revocations')
  @RequireScopes('introspect')
  @ApiOperation({ summary: 'Revocations since a cursor (long poll with `wait`)' })
  @ApiOkResponse({ type: RevocationFeedPageDto })
  @ApiGoneResponse({ description: '`REVOCATION_CURSOR_EXPIRED`: the cursor is older than the history; start again without `since`' })
  async list(@Query() query: RevocationFeedQueryDto, @Res() res: Response): Promise<void> {
    // The client going away (or the answer being sent) ends the wait.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const since = query.since === undefined ? undefined : parseCursor(query.since);
    const page = await this.feed.read(since, (query.wait ?? 0) * 1000, gone.signal);
    // Shutting down: the consumer's next poll must not keep this connection (and the server) open.
    if (this.feed.shuttingDown) res.set('Connection', 'close');
    res.set('Cache-Control', 'no-store').json({ events: page.events, cursor: page.cursor, has_more: page.hasMore });
  }
}
