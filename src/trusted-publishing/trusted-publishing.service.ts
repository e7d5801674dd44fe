import { isUniqueViolation } from '../common/errors/database-errors';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import jwt from 'jsonwebtoken';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { InvalidIssuerToken, IssuerKeys } from '../common/auth/issuer-keys';
import { AppError, unauthorized } from '../common/errors/app-error';
import { countTrustedExchange, type TrustedExchangeOutcome } from '../common/metrics/process-metrics';
import { parseUuid } from '../common/uuid';
import { AppConfig, InjectConfig, type TrustedIssuerConfig } from '../config/app.config';
import type { CiClaimLayout } from '../config/trusted-publishing.config';
import type { PluginToken } from '../plugin-tokens/plugin-token.entity';
import { PluginTokensService } from '../plugin-tokens/plugin-tokens.service';
import type { Plugin } from '../plugins/plugin.entity';
import { PluginsService } from '../plugins/plugins.service';
import { ciJobOf, normalRepository, PUBLISHER_SHAPES, refMatches, type CiJob } from './ci-claims';
import { TrustedPublisher } from './trusted-publisher.entity';
import { UsedCiToken } from './used-ci-token.entity';

/** What a maintainer registers (validated here, whoever calls: API, page or CLI). */
export interface PublisherSpec {
  issuer: string;
  repository: string;
  workflow: string;
  environment?: string | null;
  ref?: string | null;
}

/** Most publishers one plugin may have. */
export const MAX_PUBLISHERS_PER_PLUGIN = 20;
/** Longer than any CI's ID token (GitHub's are about 1.2 KB, GitLab's 1.5 KB). */
export const MAX_ID_TOKEN_LENGTH = 16 * 1024;

/** The three refusals, each with its one message (nothing else about a refused exchange is told) and its metric outcome. */
const REFUSALS = {
  TRUSTED_PUBLISHING_TOKEN_INVALID: { message: 'The ID token is not one Latchkey accepts (issuer, signature, audience or lifetime).', outcome: 'token_invalid' },
  TRUSTED_PUBLISHING_NO_PUBLISHER: { message: 'No trusted publisher of this plugin matches the ID token.', outcome: 'no_publisher' },
  TRUSTED_PUBLISHING_TOKEN_REPLAYED: { message: 'This ID token was already exchanged; request a new one.', outcome: 'replayed' },
} as const satisfies Record<string, { message: string; outcome: TrustedExchangeOutcome }>;

/** A configured CI issuer and its keys. */
interface KnownIssuer {
  config: TrustedIssuerConfig;
  keys: IssuerKeys;
}

type Exchanged = { plugin: Plugin; publisher: TrustedPublisher; token: PluginToken; secret: string };

/** `owner/repo · release.yml[ · environment]`: a publisher, as people name it. */
export function publisherName(p: Pick<TrustedPublisher, 'repository' | 'workflow' | 'environment'>): string {
  return `${p.repository} · ${p.workflow}${p.environment ? ` · ${p.environment}` : ''}`;
}

/** `Trusted publisher owner/repo · release.yml`: how its deploy tokens act (versions, audit, usage log). */
export function publisherLabel(p: Pick<TrustedPublisher, 'repository' | 'workflow' | 'environment'>): string {
  return `Trusted publisher ${publisherName(p)}`.slice(0, 200);
}

/** An exchanged token's lifetime in words, for people: 900 → "15 minutes", 90 → "90 seconds". */
export function lifetimeInWords(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} seconds`;
  return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
}

/**
 * Trusted publishing, as PyPI does it: a plugin's maintainers name the CI workflows allowed to
 * publish it; such a workflow's job presents the OIDC ID token its CI gives it and gets a deploy
 * token of the plugin that lives TRUSTED_PUBLISHING_TOKEN_TTL (15 minutes). No long-lived secret is
 * stored in the CI settings.
 */
@Injectable()
export class TrustedPublishingService {
  private readonly logger = new Logger(TrustedPublishingService.name);
  /** Issuer URL → its configuration and keys. */
  private readonly issuers: Map<string, KnownIssuer>;

  constructor(
    @InjectRepository(TrustedPublisher) private readonly publishers: Repository<TrustedPublisher>,
    @InjectRepository(UsedCiToken) private readonly usedTokens: Repository<UsedCiToken>,
    private readonly plugins: PluginsService,
    private readonly tokens: PluginTokensService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.issuers = new Map(
      config.trustedPublishing.issuers.map((issuer) => [
        issuer.issuer,
        {
          config: issuer,
          keys: new IssuerKeys(issuer.issuer, { name: issuer.name, timeoutMs: config.oidc.httpTimeoutMs, now: () => clock.nowMs() }),
        },
      ]),
    );
  }

  /** The issuers publishers may name, as configured. */
  issuerConfigs(): readonly TrustedIssuerConfig[] {
    return this.config.trustedPublishing.issuers;
  }

  list(plugin: Plugin): Promise<TrustedPublisher[]> {
    return this.publishers.find({ where: { pluginId: plugin.id }, relations: { createdBy: true }, order: { createdAt: 'ASC' } });
  }

  /** Registers a publisher (`by`: the maintainer; null from the CLI). 422 for a bad spec, 409 for a duplicate. */
  async add(plugin: Plugin, spec: PublisherSpec, by: { userId: string } | null): Promise<TrustedPublisher> {
    const fields = this.checkSpec(spec);
    const existing = await this.list(plugin);
    if (existing.length >= MAX_PUBLISHERS_PER_PLUGIN) {
      throw new AppError('VALIDATION_FAILED', `A plugin has at most ${MAX_PUBLISHERS_PER_PLUGIN} trusted publishers.`);
    }
    const same = (a: string | null, b: string | null) => (a ?? '') === (b ?? '');
    if (existing.some((p) => p.issuer === fields.issuer && p.repository === fields.repository && p.workflow === fields.workflow && same(p.environment, fields.environment) && same(p.refPattern, fields.refPattern))) {
      throw new AppError('CONFLICT', `${plugin.name} already trusts this publisher.`);
    }
    const publisher = this.publishers.create({
      id: randomUUID(),
      pluginId: plugin.id,
      ...fields,
      repositoryId: null,
      createdById: by?.userId ?? null,
      createdAt: this.clock.now(),
      lastUsedAt: null,
    });
    await this.publishers.insert(publisher);
    this.logger.log(`trusted publisher added to ${plugin.name}: ${publisherLabel(publisher)} (${publisher.issuer})`);
    await this.recordEvent('trusted_publisher.added', plugin, publisher);
    return publisher;
  }

  /** Removes a publisher, and revokes the deploy tokens it got that still work. 404 when unknown. */
  async remove(plugin: Plugin, id: string): Promise<{ publisher: TrustedPublisher; tokensRevoked: number }> {
    const uuid = parseUuid(id);
    const publisher = uuid ? await this.publishers.findOne({ where: { id: uuid, pluginId: plugin.id } }) : null;
    if (!publisher) throw new AppError('NOT_FOUND', `${plugin.name} has no trusted publisher ${id.slice(0, 64)}.`);
    const revoked = await this.tokens.revokeLiveOfPublisher(publisher.id, publisherLabel(publisher));
    await this.publishers.delete({ id: publisher.id });
    this.logger.log(`trusted publisher removed from ${plugin.name}: ${publisherLabel(publisher)}; ${revoked} live token(s) revoked`);
    await this.recordEvent('trusted_publisher.removed', plugin, publisher, { tokens_revoked: revoked });
    return { publisher, tokensRevoked: revoked };
  }

  /**
   * Exchanges a CI job's OIDC ID token for a deploy token of `pluginName`. The token must be signed
   * by a configured issuer's current key, be for our audience, within its lifetime (with the clock
   * skew), never exchanged before (`jti`), and describe a job one of the plugin's publishers names.
   * Refusals are 401 with one of three stable codes; the reason goes to the log only.
   */
  async exchange(idToken: string, pluginName: string): Promise<Exchanged> {
    if (this.issuers.size === 0) throw new AppError('NOT_FOUND', 'Trusted publishing is not enabled here (TRUSTED_PUBLISHING_ISSUERS).');
    const unverified = jwt.decode(idToken);
    const iss = unverified && typeof unverified === 'object' ? unverified.iss : undefined;
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    try {
      const exchanged = await this.exchangeWith(issuer, iss, idToken, pluginName);
      countTrustedExchange(issuer?.config.name ?? 'unknown', 'ok');
      return exchanged;
    } catch (error) {
      const refusal = error instanceof AppError && Object.hasOwn(REFUSALS, error.code) ? REFUSALS[error.code as keyof typeof REFUSALS] : undefined;
      countTrustedExchange(issuer?.config.name ?? 'unknown', refusal?.outcome ?? 'unavailable');
      throw error;
    }
  }

  private async exchangeWith(issuer: KnownIssuer | undefined, iss: unknown, idToken: string, pluginName: string): Promise<Exchanged> {
    if (!issuer) return this.refuse('TRUSTED_PUBLISHING_TOKEN_INVALID', `issuer ${String(iss ?? '(none)').slice(0, 100)} is not configured`);
    const claims = await this.verify(issuer, idToken);
    const job = ciJobOf(issuer.config, claims);
    if (!job) return this.refuse('TRUSTED_PUBLISHING_TOKEN_INVALID', `a ${issuer.config.name} token without the claims of a CI job`);
    const plugin = await this.plugins.getByName(pluginName).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'PLUGIN_NOT_FOUND') return null;
      throw error;
    });
    const candidates = plugin ? await this.publishers.find({ where: { pluginId: plugin.id, issuer: issuer.config.name } }) : [];
    const publisher = candidates.find((p) => matches(p, job, issuer.config.claims));
    if (!plugin || !publisher) {
      return this.refuse('TRUSTED_PUBLISHING_NO_PUBLISHER', `${job.repository} · ${job.workflow} (ref ${job.ref}, environment ${job.environment ?? '-'}, id ${job.repositoryId}) is no publisher of ${pluginName.slice(0, 100)}`);
    }
    await this.consume(issuer.config.name, claims.jti as string, claims.exp as number);
    // Pinned at the first exchange: the repository keeps this id for as long as it exists.
    await this.publishers.update({ id: publisher.id }, { repositoryId: publisher.repositoryId ?? job.repositoryId, lastUsedAt: this.clock.now() });
    const label = publisherLabel(publisher);
    const { token, secret } = await this.tokens.createForPublisher(plugin, { id: publisher.id, label }, this.config.trustedPublishing.tokenTtl, {
      issuer: issuer.config.name,
      repository: job.repository,
      workflow: job.workflow,
      environment: job.environment,
      ref: job.ref,
      sha: job.details.sha,
      run: job.details.run,
      actor: job.details.actor,
      event: job.details.event,
    });
    return { plugin, publisher, token, secret };
  }

  /** Signature by the issuer its `iss` names, audience, lifetime, and a `jti`. */
  private async verify(issuer: KnownIssuer, idToken: string): Promise<jwt.JwtPayload> {
    const { clockSkew, audience } = this.config.trustedPublishing;
    const now = Math.floor(this.clock.nowMs() / 1000);
    let claims: jwt.JwtPayload;
    try {
      claims = await issuer.keys.verify(idToken, { audience, clockTolerance: clockSkew, clockTimestamp: now });
    } catch (error) {
      if (error instanceof InvalidIssuerToken) return this.refuse('TRUSTED_PUBLISHING_TOKEN_INVALID', `${issuer.config.name}: ${error.message}`);
      throw error; // the issuer is unreachable: 503
    }
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.iat > now + clockSkew) {
      return this.refuse('TRUSTED_PUBLISHING_TOKEN_INVALID', `${issuer.config.name}: no exp, or iat missing or in the future`);
    }
    if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 255) {
      return this.refuse('TRUSTED_PUBLISHING_TOKEN_INVALID', `${issuer.config.name}: no usable jti`);
    }
    return claims;
  }

  /** Records the ID token as used; a second use of the same `jti` is refused (also at the same moment, by the primary key). */
  private async consume(issuer: string, jti: string, exp: number): Promise<void> {
    const now = this.clock.now();
    await this.usedTokens.delete({ expiresAt: LessThan(now) });
    try {
      await this.usedTokens.insert({ issuer, jti, expiresAt: new Date((exp + this.config.trustedPublishing.clockSkew) * 1000) });
    } catch (error) {
      if (isUniqueViolation(error)) {
        return this.refuse('TRUSTED_PUBLISHING_TOKEN_REPLAYED', `${issuer} token ${jti.slice(0, 64)} presented again`);
      }
      throw error;
    }
  }

  private refuse(code: keyof typeof REFUSALS, reason: string): never {
    this.logger.warn(`trusted publishing exchange refused (${code}): ${reason}`);
    throw unauthorized(code, REFUSALS[code].message);
  }

  private checkSpec(spec: PublisherSpec): Pick<TrustedPublisher, 'issuer' | 'repository' | 'workflow' | 'environment' | 'refPattern'> {
    const issuer = this.issuerConfigs().find((i) => i.name === spec.issuer);
    if (!issuer) {
      const names = this.issuerConfigs().map((i) => i.name);
      throw new AppError('VALIDATION_FAILED', names.length ? `issuer must be one of: ${names.join(', ')}.` : 'Trusted publishing is not enabled here (TRUSTED_PUBLISHING_ISSUERS).');
    }
    const shape = PUBLISHER_SHAPES[issuer.claims];
    const custom = issuer.claims === 'custom' ? issuer.claimNames : undefined;
    const problems: { field: string; message: string }[] = [];
    if (!shape.repository.test(spec.repository)) problems.push({ field: 'repository', message: `${shape.repositoryHint}` });
    if (!shape.workflow.test(spec.workflow)) problems.push({ field: 'workflow', message: `${shape.workflowHint}` });
    const environment = spec.environment?.trim() || null;
    if (environment !== null && custom && !custom.environment) problems.push({ field: 'environment', message: `${issuer.displayName} sends no environment claim` });
    else if (environment !== null && !/^[\x20-\x7e]{1,255}$/.test(environment)) problems.push({ field: 'environment', message: 'up to 255 visible ASCII characters' });
    const refPattern = spec.ref?.trim() || null;
    if (refPattern !== null && custom && !custom.ref) problems.push({ field: 'ref', message: `${issuer.displayName} sends no ref claim` });
    else if (refPattern !== null && !(custom ? /^[\x21-\x7e]{1,255}$/ : /^refs\/[\x21-\x7e]{1,250}$/).test(refPattern)) {
      problems.push({ field: 'ref', message: custom ? 'up to 255 visible ASCII characters, * matching any' : 'a full ref or pattern, e.g. refs/tags/v* or refs/heads/main' });
    }
    if (problems.length) throw new AppError('VALIDATION_FAILED', `Not a publisher: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`, { errors: problems });
    return { issuer: issuer.name, repository: normalRepository(issuer.claims, spec.repository), workflow: spec.workflow, environment, refPattern };
  }

  private recordEvent(type: 'trusted_publisher.added' | 'trusted_publisher.removed', plugin: Plugin, p: TrustedPublisher, extra: Record<string, number> = {}): Promise<void> {
    return this.audit.record(type, {
      subject: { type: 'trusted_publisher', id: p.id, label: publisherLabel(p) },
      pluginId: plugin.id,
      details: { plugin: plugin.name, issuer: p.issuer, repository: p.repository, workflow: p.workflow, environment: p.environment, ref: p.refPattern, ...extra },
    });
  }
}

/** Whether a publisher names this job: repository (and its pinned id), workflow, environment and ref when set. */
function matches(p: TrustedPublisher, job: CiJob, layout: CiClaimLayout): boolean {
  // GitHub environment names ignore case; GitLab's do not.
  const sameEnvironment = (a: string, b: string | null) => (layout === 'github' ? a.toLowerCase() === b?.toLowerCase() : a === b);
  return (
    p.repository === job.repository &&
    (p.repositoryId === null || p.repositoryId === job.repositoryId) &&
    p.workflow === job.workflow &&
    (p.environment === null || sameEnvironment(p.environment, job.environment)) &&
    (p.refPattern === null || (job.ref !== null && refMatches(p.refPattern, job.ref)))
  );
}
