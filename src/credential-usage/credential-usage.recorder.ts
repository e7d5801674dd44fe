import { BeforeApplicationShutdown, Injectable, type Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, QueryFailedError, Repository } from 'typeorm';
import { WriteBehindQueue } from '../common/usage/write-behind-queue';
import { RawSql } from '../database/raw-sql';
import { AppConfig, InjectConfig } from '../config/app.config';
import { CredentialUse, UsageCredentialRef } from './credential-use.entity';
import { inTransaction } from '../database/transactions';

/** One use waiting to be written. */
export interface PendingUse {
  readonly credential: UsageCredentialRef;
  readonly usedAt: Date;
  readonly method: string;
  readonly route: string | null;
  readonly ip: string | null;
  readonly status: number;
}

/**
 * Write at least once a second, at once when this many are waiting. A busy credential's uses of
 * the last second make one write of at most USAGE_LOG_SIZE rows (the newest), not several: at
 * 500 per batch, one key at 1,700 req/s cost three INSERT+DELETE rounds a second on the
 * database thread, 10–15 % of the API-key route's throughput on one core (bench/README.md).
 */
const FLUSH_INTERVAL_MS = 1000;
const BATCH_SIZE = 5000;
/** Rows per INSERT statement (7 parameters each: well under SQLite's 32,766 and PostgreSQL's 65,535). */
const ROWS_PER_INSERT = 500;
/** Most uses held in memory (≈ 4 MB) while the database is slow or down; older ones are dropped. */
const MAX_QUEUED = 20_000;
const RETRY_MS = 5000;

/**
 * The per-credential usage log, written behind: `record()` only queues (nothing waits on the
 * request path); batches are inserted at least once a second, and each credential touched is
 * then trimmed to its newest `USAGE_LOG_SIZE` rows once a quarter of that many new rows went in
 * (TrimSchedule). A flush of K uses costs ⌈K / 500⌉ multi-row INSERTs (in one transaction) and at most one DELETE.
 */
@Injectable()
export class CredentialUsageRecorder extends WriteBehindQueue<PendingUse> implements BeforeApplicationShutdown {
  private readonly trims: TrimSchedule;

  constructor(@InjectRepository(CredentialUse) uses: Repository<CredentialUse>, @InjectConfig() config: AppConfig) {
    super(
      CredentialUsageRecorder.name,
      { intervalMs: FLUSH_INTERVAL_MS, batchSize: BATCH_SIZE, capacity: MAX_QUEUED, retryMs: RETRY_MS },
      (batch, logger) => writeUses(uses, batch, config.audit.usageLogSize, logger, this.trims),
    );
    this.trims = new TrimSchedule(config.audit.usageLogSize);
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
async function writeUses(repo: Repository<CredentialUse>, batch: PendingUse[], keep: number, logger: Logger, trims: TrimSchedule): Promise<void> {
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
  const due = groups.filter((g) => trims.due(g[0].credential, g.length)).map((g) => g[0].credential);
  if (due.length === 0) return;
  try {
    await trim(repo, due, keep);
  } catch (error) {
    logger.warn(`could not trim the usage log: ${(error as Error).message}`);
  }
}

/**
 * When a credential's log is trimmed: once a quarter of USAGE_LOG_SIZE rows (at least one) were
 * written for it since its last trim on this instance. A trim ranks every row of the
 * credentials it covers; doing it at every flush made a busy instance with many distinct keys
 * spend most of its database time ranking (bench/README.md, lookups). So a log holds at most
 * USAGE_LOG_SIZE × 1.25 rows per writing instance between trims; reads take the newest
 * USAGE_LOG_SIZE. The counts are this instance's and bounded: past 50,000 credentials with a
 * count they start afresh (a forgotten count only puts that credential's trim off a little).
 */
export class TrimSchedule {
  private readonly written = new Map<string, number>();
  private readonly every: number;

  constructor(keep: number) {
    this.every = Math.max(1, Math.ceil(keep / 4));
  }

  /** Counts `rows` written for the credential; true when it is due for a trim now. */
  due(credential: UsageCredentialRef, rows: number): boolean {
    const key = `${credential.type}:${credential.id}`;
    const total = (this.written.get(key) ?? 0) + rows;
    if (total >= this.every || this.written.size >= 50_000) {
      this.written.delete(key);
      if (this.written.size >= 50_000) this.written.clear();
      return true;
    }
    this.written.set(key, total);
    return false;
  }
}

const USE_COLUMNS = ['api_key_id', 'plugin_token_id', 'used_at', 'method', 'route', 'ip', 'status'];

/** Multi-row INSERTs in plain SQL (RawSql): TypeORM's insert builder cost more CPU than the write. */
async function insert(repo: Repository<CredentialUse>, uses: PendingUse[]): Promise<void> {
  if (uses.length <= ROWS_PER_INSERT) {
    await insertRows(repo, uses);
    return;
  }
  await inTransaction(repo.manager.connection, async (manager) => {
    const rows = manager.getRepository(CredentialUse);
    for (let i = 0; i < uses.length; i += ROWS_PER_INSERT) await insertRows(rows, uses.slice(i, i + ROWS_PER_INSERT));
  });
}

function insertRows(repo: Repository<CredentialUse>, uses: PendingUse[]): Promise<unknown> {
  const sql = new RawSql(repo);
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const u of uses) {
    const first = params.length;
    params.push(
      u.credential.type === 'api_key' ? u.credential.id : null,
      u.credential.type === 'deploy_token' ? u.credential.id : null,
      sql.timestamp(u.usedAt),
      u.method,
      u.route,
      u.ip,
      u.status,
    );
    tuples.push(`(${USE_COLUMNS.map((_, i) => sql.param(first + i + 1)).join(', ')})`);
  }
  return sql.query(`INSERT INTO ${sql.table} (${USE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
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
