import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import { PluginTokenWithSecret } from '../../plugin-tokens/dto/plugin-token.dto';
import type { Plugin } from '../../plugins/plugin.entity';
import type { TrustedPublisher } from '../trusted-publisher.entity';
import { MAX_ID_TOKEN_LENGTH, publisherLabel } from '../trusted-publishing.service';

export class CreateTrustedPublisherDto {
  @ApiProperty({ example: 'github', description: 'A configured CI issuer: `github` (GitHub Actions), `gitlab` (GitLab CI/CD), or one the operator added (GET /trusted-publishing lists them)' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  issuer: string;

  @ApiProperty({ example: 'acme/napari-foo', description: 'GitHub `owner/repo` or GitLab `group/project`; case does not matter' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  repository: string;

  @ApiProperty({ example: 'release.yml', description: 'GitHub: the workflow file in .github/workflows; GitLab: the CI config path (.gitlab-ci.yml)' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  workflow: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'release', description: 'The deployment environment the job must run in (omitted: any)' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  environment?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'refs/tags/v*', description: 'The full ref the job must run for; `*` matches any run of characters (omitted: any)' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  ref?: string | null;
}

export class TrustedPublisherResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() plugin: string;
  @ApiProperty({ example: 'github' }) issuer: string;
  @ApiProperty({ example: 'acme/napari-foo' }) repository: string;
  @ApiProperty({ example: 'release.yml' }) workflow: string;
  @ApiProperty({ nullable: true, type: String }) environment: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Ref pattern' }) ref: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The repository's immutable id, pinned at the first exchange" }) repository_id: string | null;
  @ApiProperty({ example: 'Trusted publisher acme/napari-foo · release.yml', description: 'How its deploy tokens are named in versions, the audit log and the usage log' })
  label: string;
  @ApiProperty({ nullable: true, type: String, description: 'Username of the maintainer who added it' }) created_by: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_used_at: string | null;
}

export function toTrustedPublisherResponse(plugin: Plugin, p: TrustedPublisher): TrustedPublisherResponse {
  return {
    id: p.id,
    plugin: plugin.name,
    issuer: p.issuer,
    repository: p.repository,
    workflow: p.workflow,
    environment: p.environment,
    ref: p.refPattern,
    repository_id: p.repositoryId,
    label: publisherLabel(p),
    created_by: p.createdBy?.username ?? null,
    created_at: p.createdAt.toISOString(),
    last_used_at: p.lastUsedAt?.toISOString() ?? null,
  };
}

export class TokenExchangeDto {
  @ApiProperty({ description: "The CI job's OIDC ID token, requested for Latchkey's audience", maxLength: MAX_ID_TOKEN_LENGTH })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_ID_TOKEN_LENGTH)
  token: string;

  @ApiProperty({ example: 'napari-foo', description: 'The plugin to publish' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  plugin: string;
}

export class TokenExchangeResponse extends PluginTokenWithSecret {
  @ApiProperty({ format: 'uuid', description: 'The trusted publisher that matched' }) publisher_id: string;
}

export class CustomClaimNamesResponse {
  @ApiProperty() repository: string;
  @ApiProperty() workflow: string;
  @ApiProperty({ nullable: true, type: String }) ref: string | null;
  @ApiProperty({ nullable: true, type: String }) environment: string | null;
  @ApiProperty({ nullable: true, type: String }) repository_id: string | null;
}

export class TrustedIssuerResponse {
  @ApiProperty({ example: 'github' }) name: string;
  @ApiProperty({ example: 'GitHub Actions' }) display_name: string;
  @ApiProperty({ example: 'https://token.actions.githubusercontent.com' }) issuer: string;
  @ApiProperty({ enum: ['github', 'gitlab', 'custom'], description: 'Whose claim layout its ID tokens follow (`custom`: the claims `claim_names` names)' })
  claims: 'github' | 'gitlab' | 'custom';
  @ApiProperty({ type: CustomClaimNamesResponse, nullable: true, description: 'With `claims: custom`: which claim says what' })
  claim_names: CustomClaimNamesResponse | null;
}

export class TrustedPublishingInfo {
  @ApiProperty({ description: 'Whether any CI issuer is configured' }) enabled: boolean;
  @ApiProperty({ description: 'The audience (`aud`) to request the CI ID token for' }) audience: string;
  @ApiProperty({ description: 'Seconds an exchanged deploy token lives' }) token_ttl: number;
  @ApiProperty({ type: [TrustedIssuerResponse] }) issuers: TrustedIssuerResponse[];
}
