import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { Roles } from '../common/auth/decorators';
import { Role } from '../common/auth/scopes';
import { AdminCredentialsService } from './admin-credentials.service';
import { AdminPluginPage } from './dto/admin-plugin.dto';
import { pageOf, PageQueryDto } from './dto/page.dto';

/** Every plugin with its maintainers and deploy-token counts (the tokens: /admin/credentials/deploy-tokens). */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/plugins')
export class AdminPluginsController {
  constructor(private readonly admin: AdminCredentialsService) {}

  @Get()
  @ApiOkResponse({ type: AdminPluginPage })
  @ApiOperation({ summary: 'List plugins with their maintainers and deploy-token counts' })
  list(@Query() q: PageQueryDto): Promise<AdminPluginPage> {
    return this.admin.listPlugins(pageOf(q));
  }
}
