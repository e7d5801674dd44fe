import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { PluginStorage, STALE_MS, type IncomingFile } from './plugin-storage';

/**
 * Plugin files on local disk under PLUGIN_STORAGE_DIR (PLUGIN_STORAGE=disk; several instances must share the directory). Uploads stream
 * into `.incoming/` while their SHA-256 is computed (one pass, never held in memory), then move
 * into the store; if the version row cannot be written the file is deleted again, so a failed
 * upload leaves no file behind. A crash between the two steps leaves an unreferenced file, which
 * the boot-time sweep (PluginVersionsService) removes. Stored files are named by a random key,
 * never by client input.
 */
@Injectable()
export class DiskPluginStorage extends PluginStorage {
  readonly root: string;
  readonly incoming: string;

  constructor(@InjectConfig() config: AppConfig) {
    super();
    this.root = config.plugins.storageDir;
    this.incoming = join(this.root, '.incoming');
  }

  async prepare(): Promise<void> {
    mkdirSync(this.incoming, { recursive: true, mode: 0o700 });
    // Leftovers of a crash mid-upload. Only old ones: another instance may share the directory.
    for (const name of await this.olderThan(this.incoming, STALE_MS)) await rm(join(this.incoming, name), { force: true });
  }

  /** Stored files (not the incoming ones) untouched for `ms`. */
  async storedOlderThan(ms: number): Promise<string[]> {
    return (await this.olderThan(this.root, ms)).filter((name) => name.endsWith('.bin'));
  }

  private async olderThan(dir: string, ms: number): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(dir)) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info?.isFile() && Date.now() - info.mtimeMs > ms) out.push(name);
    }
    return out;
  }

  /**
   * Streams an upload into the incoming directory while its SHA-256 and size are computed (one
   * pass, never held in memory). A stream that fails leaves no file behind.
   */
  receive(stream: Readable, originalname: string): Promise<IncomingFile> {
    const path = join(this.incoming, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    return pipeline(stream, createWriteStream(path, { mode: 0o600 })).then(
      () => ({ path, size, sha256: hash.digest('hex'), originalname }),
      async (error: unknown) => {
        await rm(path, { force: true });
        throw error;
      },
    );
  }

  /** Moves an incoming file into the store; returns its storage key. */
  async keep(file: IncomingFile): Promise<string> {
    const key = `${randomUUID()}.bin`;
    await rename(file.path, join(this.root, key));
    return key;
  }

  async discard(pathOrKey: { path?: string; key?: string }): Promise<void> {
    const path = pathOrKey.path ?? (pathOrKey.key ? join(this.root, pathOrKey.key) : undefined);
    if (path) await rm(path, { force: true });
  }

  /** The stored file, or undefined when it is missing on disk. */
  async open(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const path = join(this.root, key);
    const info = await stat(path).catch(() => undefined);
    if (!info) return undefined;
    return { stream: createReadStream(path), size: info.size };
  }
}
