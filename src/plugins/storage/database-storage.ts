import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { In, LessThan, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { RawSql } from '../../database/raw-sql';
import { PluginFile, PluginFileChunk } from './plugin-file.entity';
import { PluginStorage, STALE_MS, type IncomingFile } from './plugin-storage';

/** How long a replaced file stays readable for downloads already under way, ms. */
export const DISCARD_GRACE_MS = 10 * 60 * 1000;

/** Bytes per stored chunk: the most an upload or a download holds in memory at a time (plus the driver's copy). */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Plugin files in the database (PLUGIN_STORAGE=database, the default with PostgreSQL), so that
 * every instance serves every file. An upload is written as it arrives, chunk by chunk
 * (`plugin_file_chunks`, 1 MiB each, one INSERT at a time: the request is read no faster than the
 * database takes it), under a `plugin_files` row that stays `incoming` until the version row is
 * written; a failed or aborted upload deletes its row and chunks. A download reads one chunk at a
 * time, as the client takes them. A replaced file is `discarded`: never served again, and deleted
 * DISCARD_GRACE_MS later (at the next upload or start), so a download under way still ends whole.
 * Incoming rows older than an hour are a crash's leftovers and are deleted at start.
 */
@Injectable()
export class DatabasePluginStorage extends PluginStorage {
  private readonly logger = new Logger(DatabasePluginStorage.name);
  private sql?: RawSql;

  constructor(
    @InjectRepository(PluginFile) private readonly files: Repository<PluginFile>,
    @InjectRepository(PluginFileChunk) private readonly chunks: Repository<PluginFileChunk>,
    private readonly clock: Clock,
  ) {
    super();
  }

  async prepare(): Promise<void> {
    const stale = await this.files.find({ select: { key: true }, where: { state: 'incoming', createdAt: LessThan(new Date(this.clock.nowMs() - STALE_MS)) } });
    for (const { key } of stale) await this.remove(key);
    if (stale.length) this.logger.warn(`removed ${stale.length} incomplete upload(s) left by a crash`);
    await this.purgeDiscarded();
  }

  /** Deletes the files discarded more than DISCARD_GRACE_MS ago. */
  private async purgeDiscarded(): Promise<void> {
    const gone = await this.files.find({ select: { key: true }, where: { state: 'discarded', discardedAt: LessThan(new Date(this.clock.nowMs() - DISCARD_GRACE_MS)) } });
    for (const { key } of gone) await this.remove(key);
  }

  /** `key`: the key to store it under (the move from disk keeps each file's); a new random one by default. */
  async receive(stream: Readable, originalname: string, key = `${randomUUID()}.bin`): Promise<IncomingFile> {
    await this.files.insert({ key, state: 'incoming', size: 0, sha256: null, createdAt: this.clock.now(), discardedAt: null });
    const hash = createHash('sha256');
    // One chunk buffer, filled and written again and again: what an upload holds, whatever its size.
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0;
    let size = 0;
    let seq = 0;
    try {
      // for await: the next piece of the request is read only once this one is handled (backpressure).
      for await (const piece of stream as AsyncIterable<Buffer>) {
        hash.update(piece);
        size += piece.length;
        for (let at = 0; at < piece.length; ) {
          const n = piece.copy(chunk, filled, at);
          filled += n;
          at += n;
          if (filled === CHUNK_BYTES) {
            await this.writeChunk(key, seq++, chunk);
            filled = 0;
          }
        }
      }
      if (filled > 0) await this.writeChunk(key, seq++, chunk.subarray(0, filled));
      const sha256 = hash.digest('hex');
      await this.files.update({ key }, { size, sha256 });
      return { path: key, size, sha256, originalname };
    } catch (error) {
      await this.remove(key).catch(() => undefined);
      throw error;
    }
  }

  /** Plain SQL (RawSql): the query builder would copy the bytes again. Returns once the database has them. */
  private async writeChunk(key: string, seq: number, data: Buffer): Promise<void> {
    const sql = (this.sql ??= new RawSql(this.chunks));
    await sql.query(`INSERT INTO ${sql.table} (file_key, seq, data) VALUES (${sql.param(1)}, ${sql.param(2)}, ${sql.param(3)})`, [key, seq, data]);
  }

  async keep(file: IncomingFile): Promise<string> {
    const { affected } = await this.files.update({ key: file.path, state: 'incoming' }, { state: 'stored' });
    if (affected !== 1) throw new Error(`incoming plugin file ${file.path} is gone`);
    await this.purgeDiscarded();
    return file.path;
  }

  async discard(pathOrKey: { path?: string; key?: string }): Promise<void> {
    if (pathOrKey.key) {
      // Not served from now on; its chunks stay a while for downloads under way (purgeDiscarded).
      await this.files.update({ key: pathOrKey.key, state: 'stored' }, { state: 'discarded', discardedAt: this.clock.now() });
      return;
    }
    if (!pathOrKey.path) return;
    // An incoming file only: once kept, the same key is a stored file that a version refers to.
    if (await this.files.exists({ where: { key: pathOrKey.path, state: 'incoming' } })) await this.remove(pathOrKey.path);
  }

  async open(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const file = await this.files.findOne({ where: { key, state: 'stored' } });
    if (!file) return undefined;
    const readChunk = (seq: number) => this.readChunk(key, seq);
    async function* read(): AsyncGenerator<Buffer> {
      let sent = 0;
      for (let seq = 0; ; seq++) {
        const data = await readChunk(seq);
        if (!data) break;
        sent += data.length;
        yield data;
      }
      // Chunks gone under the download (deleted after the grace): cut the connection, never a short "complete" file.
      if (sent !== file!.size) throw new Error(`plugin file ${key} ended after ${sent} of ${file!.size} bytes`);
    }
    return { stream: Readable.from(read(), { objectMode: false }), size: file.size };
  }

  /** One chunk's bytes (plain SQL, as it is written), or undefined past the last one. */
  private async readChunk(key: string, seq: number): Promise<Buffer | undefined> {
    const sql = (this.sql ??= new RawSql(this.chunks));
    const [row] = await sql.query<{ data: Buffer }>(`SELECT data FROM ${sql.table} WHERE file_key = ${sql.param(1)} AND seq = ${sql.param(2)}`, [key, seq]);
    return row?.data;
  }

  async storedOlderThan(ms: number): Promise<string[]> {
    const rows = await this.files.find({ select: { key: true }, where: { state: 'stored', createdAt: LessThan(new Date(this.clock.nowMs() - ms)) } });
    return rows.map((r) => r.key);
  }

  /** Whether these keys are stored here (the move from disk skips them). */
  async storedKeys(keys: string[]): Promise<Set<string>> {
    const stored = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.files.find({ select: { key: true }, where: { key: In(keys.slice(i, i + 500)), state: 'stored' } });
      for (const r of rows) stored.add(r.key);
    }
    return stored;
  }

  private async remove(key: string): Promise<void> {
    // Chunks first: SQLite enforces the cascade only with foreign keys on.
    await this.chunks.delete({ fileKey: key });
    await this.files.delete({ key });
  }
}
