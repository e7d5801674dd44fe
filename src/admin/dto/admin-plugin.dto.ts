import { ApiProperty } from '../../common/http/api-docs';
import { PluginResponse } from '../../plugins/dto/plugin-response.dto';

export class PluginTokenCountsResponse {
  @ApiProperty() active: number;
  @ApiProperty() expired: number;
  @ApiProperty() revoked: number;
}

export class AdminPluginResponse extends PluginResponse {
  @ApiProperty({ type: PluginTokenCountsResponse, description: 'Deploy tokens of the plugin by state' }) tokens: PluginTokenCountsResponse;
}

export class AdminPluginPage {
  @ApiProperty({ type: [AdminPluginResponse] }) items: AdminPluginResponse[];
  @ApiProperty() total: number;
  @ApiProperty() offset: number;
  @ApiProperty() limit: number;
}
