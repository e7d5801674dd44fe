import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export const MAX_WAIT_SECONDS = 30;

export class RevocationFeedQueryDto {
  @ApiPropertyOptional({ description: 'The `cursor` of the previous answer; omit it to start from now (no events, the current cursor)', example: '1042.1796444777' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}\.\d{1,12}$/, { message: 'since must be a cursor returned by this feed' })
  since?: string;

  @ApiPropertyOptional({ description: `Seconds to wait for an event when there is none yet (long poll), 0–${MAX_WAIT_SECONDS}`, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_SECONDS)
  wait?: number;
}

export class RevocationFeedEventDto {
  @ApiProperty({ description: 'Increasing; the cursor of a page ends at the last one' }) id: string;
  @ApiProperty({ description: 'When it was revoked, Unix seconds' }) at: number;
  @ApiProperty({
    enum: ['user', 'session', 'api_key', 'deploy_token'],
    description:
      '`user`: refuse the tokens of `sub` whose `epoch` is lower, and all of them unless `status` is `active`; drop roles not in `roles`. `session`: refuse tokens whose `sid` is this. `api_key`, `deploy_token`: forget what was cached about it.',
  })
  kind: string;
  @ApiPropertyOptional({ description: 'user, api_key: the user id' }) sub?: string;
  @ApiPropertyOptional({ description: 'user: the new epoch' }) epoch?: number;
  @ApiPropertyOptional({ enum: ['active', 'disabled', 'deleted'] }) status?: string;
  @ApiPropertyOptional({ type: [String], description: "user: the user's roles now" }) roles?: string[];
  @ApiPropertyOptional({ description: 'session: the session id (the `sid` claim)' }) sid?: string;
  @ApiPropertyOptional() key_id?: string;
  @ApiPropertyOptional() token_id?: string;
  @ApiPropertyOptional() plugin_id?: string;
}

export class RevocationFeedPageDto {
  @ApiProperty({ type: [RevocationFeedEventDto], description: 'Oldest first, at most 500' }) events: RevocationFeedEventDto[];
  @ApiProperty({ description: 'Opaque: send it as `since` next time (at least once per retention period)' }) cursor: string;
  @ApiProperty({ description: 'More events are waiting: ask again at once' }) has_more: boolean;
}
