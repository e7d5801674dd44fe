import { Body, Controller, Get, Post } from '@nestjs/common';
import { CurrentPrincipal, type LatchkeyPrincipal, Public, RequireScopes } from '@latchkey/nest';

interface Note {
  id: number;
  text: string;
  author: string;
}

/** Notes, kept in memory. Reading needs `notes:read`, writing `notes:write`: this service's own scopes. */
@Controller()
export class NotesController {
  private readonly notes: Note[] = [];

  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('whoami')
  whoami(@CurrentPrincipal() principal: LatchkeyPrincipal) {
    return principal;
  }

  @Get('notes')
  @RequireScopes('notes:read')
  list() {
    return this.notes;
  }

  @Post('notes')
  @RequireScopes('notes:write')
  create(@Body() body: { text?: unknown }, @CurrentPrincipal() principal: LatchkeyPrincipal) {
    const note = { id: this.notes.length + 1, text: String(body?.text ?? '').slice(0, 1000), author: principal.username };
    this.notes.push(note);
    return note;
  }
}
