import { API_PREFIX } from '../../../common/http/base-url';
import { html } from '../../../common/html/html';
import type { PagesService } from '../../../common/html/pages.service';
import { DEVICE_POLL_INTERVAL } from './device-logins.service';
import type { LatchkeyReply } from '../../../common/http/request-context';

/** Where the browser half of a device-code login starts (the `authorization_uri`), as a local path. */
export function deviceAuthorizePath(provider: string): string {
  return `/${API_PREFIX}/auth/provider/${provider}/authorize?device=1`;
}

/**
 * "Authorize the session": who the IdP just logged in, and a form for the code the program shows.
 * The warning is there because a device code can be phished: someone starts a login and sends
 * the link and the code to the victim, whose approval would hand them the session.
 */
export function sendUserCodeForm(
  pages: PagesService,
  res: LatchkeyReply,
  page: { status: number; provider: string; displayName: string; username: string; csrf: string; error?: string },
): void {
  pages.send(
    res,
    page.status,
    'Authorize the session',
    html`<p>You are logged in as <strong>${page.username}</strong> through ${page.displayName}. A program (such as
<code>tiled login</code> in your terminal) asks to log in as you: enter the code it shows to let it.</p>
<p class="muted">Enter a code only if it comes from a program you started yourself.</p>
${page.error ? html`<p class="warn" role="alert">${page.error}</p>` : ''}
<form method="post" action="/${API_PREFIX}/auth/provider/${page.provider}/device_code">
<input type="hidden" name="csrf" value="${page.csrf}">
<p><label for="user_code">Code</label> <input id="user_code" name="user_code" required autofocus autocomplete="off" spellcheck="false" maxlength="16" placeholder="XXXX-XXXX"></p>
<p><button type="submit">Authorize</button></p>
</form>`,
  );
}

export function sendApproved(pages: PagesService, res: LatchkeyReply, username: string): void {
  pages.send(
    res,
    200,
    'Success — return to your terminal',
    html`<p>The session is authorized for <strong>${username}</strong>. Within ${DEVICE_POLL_INTERVAL} seconds the program
in your terminal should be logged in. You can close this page.</p>`,
  );
}
