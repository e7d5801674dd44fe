import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { RequireScopes } from '../common/auth/decorators';
import { RevocationFeedPageDto, RevocationFeedQueryDto } from './dto/revocation-feed.dto';
import { parseCursor, RevocationFeed } from './revocation-feed.service';
import type { LatchkeyReply } from '../common/http/request-context';

@ApiTags('auth')
@Controller('auth')
export class RevocationFeedController {
  constructor(private readonly feed: RevocationFeed) {}

  /** What was revoked since a cursor, for services that verify access tokens themselves (docs/tokens-and-sessions.md). */
  @Get('revocations')
  @RequireScopes('introspect')
  @ApiOperation({ summary: 'Revocations since a cursor (long poll with `wait`)', description: 'For resource servers that verify access tokens themselves: what was revoked since `since` (users, sessions, API keys, deploy tokens). With `wait` (seconds), an empty answer is held until something happens or the wait ends.' })
  @ApiOkResponse({ type: RevocationFeedPageDto })
  @ApiErrors('REVOCATION_CURSOR_EXPIRED')
  async list(@Query() query: RevocationFeedQueryDto, @Res() res: LatchkeyReply): Promise<void> {
    // The client going away (or the answer being sent) ends the wait.
    const gone = new AbortController();
    res.raw.once('close', () => gone.abort());
    const since = query.since === undefined ? undefined : parseCursor(query.since);
    const page = await this.feed.read(since, (query.wait ?? 0) * 1000, gone.signal);
    // Shutting down: the consumer's next poll must not keep this connection (and the server) open.
    if (this.feed.shuttingDown) res.header('Connection', 'close');
    res.header('Cache-Control', 'no-store').send({ events: page.events, cursor: page.cursor, has_more: page.hasMore });
  }
}
