import { BeforeApplicationShutdown, Injectable, type Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, QueryFailedError, Repository } from 'typeorm';
import { WriteBehindQueue } from '../common/usage/write-behind-queue';
import { AppConfig, InjectConfig } from '../config/app.config';
import { CredentialUse, UsageCredentialRef } from './credential-use.entity';

/** One use waiting to be written. */
export interface PendingUse {
  readonly credential: UsageCredentialRef;
  readonly usedAt: Date;
  readonly method: string;
  readonly route: string | null;
  readonly ip: string | null;
  readonly status: number;
}

/** Write at least once a second, at once when this many are waiting. */
const FLUSH_INTERVAL_MS = 1000;
const BATCH_SIZE = 500;
/** Most uses held in memory (≈ 2 MB) while the database is slow or down; older ones are dropped. */
const MAX_QUEUED = 10_000;
const RETRY_MS = 5000;

/**
 * The per-credential usage log, written behind: `record()` only queues (nothing waits on the
 * request path); batches are inserted at least once a second, and each credential touched is
 * then trimmed to its newest `USAGE_LOG_SIZE` rows. A flush of K uses costs ⌈K / 500⌉ × 2
 * queries (one multi-row INSERT, one DELETE for every credential of the batch).
 */
@Injectable()
export class CredentialUsageRecorder extends WriteBehindQueue<PendingUse> implements BeforeApplicationShutdown {
  constructor(@InjectRepository(CredentialUse) uses: Repository<CredentialUse>, @InjectConfig() config: AppConfig) {
    super(
      CredentialUsageRecorder.name,
      { intervalMs: FLUSH_INTERVAL_MS, batchSize: BATCH_SIZE, capacity: MAX_QUEUED, retryMs: RETRY_MS },
      (batch, logger) => writeUses(uses, batch, config.audit.usageLogSize, logger),
    );
  }

  record(use: PendingUse): void {
    this.push(use);
  }

  /** This instance's uses of `credential` not written yet, oldest first. */
  pending(credential: UsageCredentialRef): PendingUse[] {
    return this.queued((u) => u.credential.id === credential.id && u.credential.type === credential.type);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

/**
 * Inserts a batch and trims the credentials it touched to their newest `keep` rows. A failed
 * INSERT throws (nothing was written; the queue retries the batch). A failed trim is only
 * logged: the rows are in, and the credential's next flush trims it.
 */
async function writeUses(repo: Repository<CredentialUse>, batch: PendingUse[], keep: number, logger: Logger): Promise<void> {
  // Only the newest `keep` uses of a credential can survive the trim: older ones are not written.
  const byCredential = new Map<string, PendingUse[]>();
  for (const use of batch) {
    const key = `${use.credential.type}:${use.credential.id}`;
    const group = byCredential.get(key);
    if (group) group.push(use);
    else byCredential.set(key, [use]);
  }
  const groups = [...byCredential.values()].map((g) => g.slice(-keep));
  try {
    await insert(repo, groups.flat());
  } catch (error) {
    if (!isForeignKeyViolation(error)) throw error;
    // A credential was deleted between its use and this write (its owner or plugin was
    // deleted): write one credential at a time; a credential whose INSERT fails is dropped,
    // not retried, so a retry can never write the others twice.
    for (const group of groups) {
      try {
        await insert(repo, group);
      } catch (e) {
        logger.warn(`dropped ${group.length} uses of ${group[0].credential.type} ${group[0].credential.id}: ${(e as Error).message}`);
      }
    }
  }
  try {
    await trim(repo, groups.map((g) => g[0].credential), keep);
  } catch (error) {
    logger.warn(`could not trim the usage log: ${(error as Error).message}`);
  }
}

function insert(repo: Repository<CredentialUse>, uses: PendingUse[]): Promise<unknown> {
  return repo
    .createQueryBuilder()
    .insert()
    .values(
      uses.map((u) => ({
        apiKeyId: u.credential.type === 'api_key' ? u.credential.id : null,
        pluginTokenId: u.credential.type === 'deploy_token' ? u.credential.id : null,
        usedAt: u.usedAt,
        method: u.method,
        route: u.route,
        ip: u.ip,
        status: u.status,
      })),
    )
    .updateEntity(false)
    .execute();
}

/** One DELETE: every row of these credentials beyond its newest `keep` (SQLite ≥ 3.25 and PostgreSQL window functions). */
async function trim(repo: Repository<CredentialUse>, credentials: UsageCredentialRef[], keep: number): Promise<void> {
  const keys = credentials.filter((c) => c.type === 'api_key').map((c) => c.id);
  const tokens = credentials.filter((c) => c.type === 'deploy_token').map((c) => c.id);
  const ranked = repo
    .createQueryBuilder('u')
    .select('u.id', 'id')
    .addSelect('ROW_NUMBER() OVER (PARTITION BY u.api_key_id, u.plugin_token_id ORDER BY u.used_at DESC, u.id DESC)', 'rn')
    .where(
      new Brackets((qb) => {
        if (keys.length > 0) qb.orWhere('u.api_key_id IN (:...keys)', { keys });
        if (tokens.length > 0) qb.orWhere('u.plugin_token_id IN (:...tokens)', { tokens });
      }),
    );
  await repo
    .createQueryBuilder()
    .delete()
    .where(`id IN (SELECT ranked.id FROM (${ranked.getQuery()}) ranked WHERE ranked.rn > :keep)`)
    .setParameters({ ...ranked.getParameters(), keep })
    .execute();
}

function isForeignKeyViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '23503' /* PostgreSQL */ || /FOREIGN KEY constraint failed/i.test(error.message) /* SQLite */;
}
