import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/decorators';
import { Role } from '../common/auth/scopes';
import { AdminCredentialsService } from './admin-credentials.service';
import { AdminPluginPage } from './dto/admin-plugin.dto';
import { pageOf, PageQueryDto } from './dto/page.dto';

/** Every plugin with its maintainers and deploy-token counts (the tokens: /admin/credentials/deploy-tokens). */
@ApiTags('admin')
@ApiBearerAuth()
@Roles(Role.Admin)
@Controller('admin/plugins')
export class AdminPluginsController {
  constructor(private readonly admin: AdminCredentialsService) {}

  @Get()
  @ApiOkResponse({ type: AdminPluginPage })
  list(@Query() q: PageQueryDto): Promise<AdminPluginPage> {
    return this.admin.listPlugins(pageOf(q));
  }
}
