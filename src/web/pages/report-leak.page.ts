import { Body, Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '../../common/http/api-docs';
import { Public } from '../../common/auth/decorators';
import type { LatchkeyReply, LatchkeyRequest } from '../../common/http/request-context';
import { RateLimit } from '../../common/rate-limit';
import { html } from '../../common/html/html';
import { PageErrorsFilter } from '../../common/html/page-errors.filter';
import { PagesService } from '../../common/html/pages.service';
import { assertCsrf, csrfField } from '../../common/html/view-helpers';
import { LeakedTokensService } from '../../leaked-tokens/leaked-tokens.service';
import { ReportLeakFormDto } from '../dto/page-forms.dto';

/**
 * `/report-leak`: for anyone who found one of our tokens (in a repository, a paste, a log). Like
 * `POST /api/v1/leaks/report`, the token is revoked if it is live, and the page that follows is
 * the same whatever was sent, shown before the token is looked at.
 */
@ApiExcludeController()
@UseFilters(PageErrorsFilter)
@Controller()
export class ReportLeakPageController {
  constructor(
    private readonly pages: PagesService,
    private readonly leaks: LeakedTokensService,
  ) {}

  @Public()
  @Get('report-leak')
  form(@Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    this.pages.send(
      res,
      200,
      'Report a leaked token',
      html`<p>Found a Latchkey token (<span class="mono">lk_pat_…</span>, <span class="mono">lk_dpl_…</span>, <span class="mono">lk_rt_…</span>) where it should not be? Paste it here: if it still works, it is revoked at once and its owner is told where it was found.</p>
<form method="post" action="/report-leak" id="report-leak-form">${csrfField(req)}
<div class="field"><label for="token">Token</label><input type="text" id="token" name="token" maxlength="1024" autocomplete="off" spellcheck="false" required autofocus></div>
<div class="field"><label for="url">Where you found it (optional)</label><input type="text" id="url" name="url" maxlength="2048" placeholder="https://…"></div>
<button type="submit">Report and revoke</button></form>`,
      { narrow: true },
    );
  }

  @Public()
  @RateLimit('public')
  @Post('report-leak')
  report(@Body() body: ReportLeakFormDto, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    assertCsrf(req, body.csrf);
    this.pages.send(res, 200, 'Thank you', html`<p id="report-received">Thank you. If this was a live Latchkey token, it has been revoked and its owner will see your report.</p>`, {
      narrow: true,
    });
    this.leaks.acceptPublicReport(body.token, body.url);
  }
}
