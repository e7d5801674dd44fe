import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes, Roles } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { Role } from '../common/auth/scopes';
import { AuditService } from './audit.service';
import { AuditPageResponse, toAuditPage } from './dto/audit-event-response.dto';
import { AdminAuditQueryDto, AuditQueryDto, toAuditFilters } from './dto/audit-query.dto';

/** Everyone's events (admins) and one's own (`/users/me/audit`). Plugin events: PluginsController. */
@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('admin/audit')
  @Roles(Role.Admin)
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiOperation({ summary: 'Audit events of every user', description: 'Newest first; filter by event type, user and time, one page at a time.' })
  async all(@Query() q: AdminAuditQueryDto): Promise<AuditPageResponse> {
    return toAuditPage(await this.audit.list({ ...toAuditFilters(q), userId: q.user }));
  }

  /** Events about the caller or done by them. */
  @Get('users/me/audit')
  @RequireScopes('read:account')
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiOperation({ summary: 'Audit events about me or done by me', description: 'Logins, credentials created and revoked, role changes: newest first, paged.' })
  async mine(@CurrentPrincipal() principal: UserPrincipal, @Query() q: AuditQueryDto): Promise<AuditPageResponse> {
    return toAuditPage(await this.audit.list({ ...toAuditFilters(q), involving: principal.userId }));
  }
}
