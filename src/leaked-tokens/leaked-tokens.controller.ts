import { Body, Controller, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { createHash, verify } from 'node:crypto';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { Public } from '../common/auth/decorators';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { AppError, unauthorized } from '../common/errors/app-error';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '../common/http/api-docs';
import type { LatchkeyReply, LatchkeyRequest } from '../common/http/request-context';
import { RateLimit } from '../common/rate-limit';
import { AppConfig, InjectConfig } from '../config/app.config';
import { LeakedTokensService } from './leaked-tokens.service';

/** Most matches one secret-scanning report may carry (GitHub batches them). */
const MAX_MATCHES = 1000;
/** Longer than any of our tokens (53 characters): a longer value is none of ours, and is not hashed. */
const MAX_TOKEN = 1024;

export class LeakReportDto {
  @ApiProperty({ description: 'The token as found', maxLength: MAX_TOKEN })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TOKEN)
  token: string;

  @ApiPropertyOptional({ description: 'Where it was found (a URL, a paste)', maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;
}

export class SecretScanningMatch {
  @ApiProperty() token: string;
  @ApiProperty({ description: 'The secret type GitHub matched' }) type: string;
  @ApiProperty({ description: 'Where it was found (may be empty)' }) url: string;
  @ApiPropertyOptional({ description: 'content, commit, issue_comment, …' }) source?: string;
}

export class SecretScanningVerdict {
  @ApiProperty({ description: 'SHA-256 of the token, hex' }) token_hash: string;
  @ApiProperty() token_type: string;
  @ApiProperty({ enum: ['true_positive', 'false_positive'] }) label: 'true_positive' | 'false_positive';
}

/**
 * Leaked tokens reported to Latchkey: by GitHub's secret scanning (the partner program: signed
 * reports of tokens found in public code) and by anyone who found one (`/leaks/report`, also the
 * `/report-leak` page). Every token of ours among them is revoked at once; see LeakedTokensService.
 */
@ApiTags('leaks')
@Controller('leaks')
export class LeakedTokensController {
  private readonly logger = new Logger(LeakedTokensController.name);

  constructor(
    private readonly leaks: LeakedTokensService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * GitHub's secret-scanning partner endpoint: a JSON array of matches, signed with ECDSA P-256 /
   * SHA-256 over the raw body by the key `Github-Public-Key-Identifier` names (SECRET_SCANNING_KEYS).
   * Answers per match whether it was one of ours (`true_positive`), by the token's SHA-256.
   */
  @Public()
  @RateLimit('public')
  @Post('github-secret-scanning')
  @HttpCode(200)
  @ApiOperation({
    summary: "GitHub secret scanning: revoke our tokens found in public code (partner program)",
    description: 'Signed by GitHub (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: ECDSA P-256 SHA-256 over the raw body, keys in SECRET_SCANNING_KEYS). 404 when no key is configured.',
  })
  @ApiBody({ type: [SecretScanningMatch] })
  @ApiOkResponse({ type: [SecretScanningVerdict] })
  @ApiErrors('SIGNATURE_INVALID', 'NOT_FOUND', 'VALIDATION_FAILED')
  async githubSecretScanning(@Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    const keys = this.config.leakReports.githubKeys;
    if (keys.size === 0) throw new AppError('NOT_FOUND', 'Secret-scanning reports are not enabled here (SECRET_SCANNING_KEYS).');
    const keyId = req.headers['github-public-key-identifier'];
    const signature = req.headers['github-public-key-signature'];
    const key = typeof keyId === 'string' ? keys.get(keyId) : undefined;
    if (!key || typeof signature !== 'string' || !req.rawBody || !verifies(req.rawBody, key, signature)) {
      throw unauthorized('SIGNATURE_INVALID', 'The report is not signed by a configured GitHub secret-scanning key.');
    }
    const matches = readMatches(req.body);
    const verdicts: SecretScanningVerdict[] = [];
    for (const match of matches) {
      const kind = await this.leaks.report(match.token, { reporter: 'github_secret_scanning', url: match.url || null, source: match.source ?? null });
      verdicts.push({ token_hash: createHash('sha256').update(match.token).digest('hex'), token_type: match.type, label: kind ? 'true_positive' : 'false_positive' });
    }
    this.logger.log(`secret-scanning report: ${matches.length} match(es), ${verdicts.filter((v) => v.label === 'true_positive').length} of ours`);
    res.header('Cache-Control', 'no-store').send(verdicts);
  }

  /**
   * For whoever found a token: it is revoked if it is a live token of ours. The answer is the same
   * whatever the token was, and is sent before the token is looked at, so that neither the answer
   * nor its timing tells whether it was real.
   */
  @Public()
  @RateLimit('public')
  @Post('report')
  @HttpCode(202)
  @ApiOperation({ summary: 'Report a leaked token', description: 'Revoked at once if it is a live Latchkey token (API key, deploy token, refresh token). Always 202, whatever the token.' })
  @ApiAcceptedResponse({ description: 'Received (the same answer whatever the token was)' })
  @ApiErrors('VALIDATION_FAILED')
  report(@Body() body: LeakReportDto, @Res() res: LatchkeyReply): void {
    res.header('Cache-Control', 'no-store').code(202).send({ received: true });
    this.leaks.acceptPublicReport(body.token, body.url);
  }
}

/** GitHub's signature: base64 of an ASN.1 DER ECDSA signature over the raw body, SHA-256. */
function verifies(body: Buffer, key: Parameters<typeof verify>[2], signature: string): boolean {
  if (signature.length > 512 || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify('sha256', body, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The report's matches, each checked: a JSON array of 1 to MAX_MATCHES objects with string fields. */
function readMatches(body: unknown): SecretScanningMatch[] {
  const invalid = (why: string) => new AppError('VALIDATION_FAILED', `A secret-scanning report is a JSON array of matches: ${why}.`);
  if (!Array.isArray(body) || body.length === 0) throw invalid('the body is not a non-empty array');
  if (body.length > MAX_MATCHES) throw invalid(`at most ${MAX_MATCHES} per report`);
  return body.map((m: unknown, i) => {
    const match = m as Record<string, unknown> | null;
    const text = (field: string, max: number, optional = false) => {
      const value = match?.[field];
      if (value === undefined && optional) return undefined;
      if (typeof value !== 'string' || value.length > max) throw invalid(`match ${i}: "${field}" must be a string of at most ${max} characters`);
      return value;
    };
    if (typeof match !== 'object' || match === null || Array.isArray(match)) throw invalid(`match ${i} is not an object`);
    const token = text('token', MAX_TOKEN)!;
    if (token.length === 0) throw invalid(`match ${i}: "token" is empty`);
    return { token, type: text('type', 200)!, url: text('url', 4096, true) ?? '', source: text('source', 64, true) };
  });
}
