import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PluginVersion } from '../plugin-version.entity';
import { DatabasePluginStorage } from './database-storage';
import { DiskPluginStorage } from './disk-storage';

/** What a move did: files copied (and checked), files already in the database, and the problems. */
export interface MoveReport {
  moved: number;
  alreadyThere: number;
  /** One line per file that could not be moved (missing on disk, or not the bytes its version names). */
  failed: string[];
  removedFromDisk: number;
}

/**
 * Moves the plugin files of every version from the disk store into the database store (operator
 * CLI `storage:move-to-database`), under the same keys, so no version row changes. Each file is
 * streamed, its size and SHA-256 compared with what its version recorded at upload; a file that
 * does not match is not kept. Files already in the database are skipped, so the move can be run
 * again after a failure. With `removeFromDisk`, each disk file is deleted once its copy is checked.
 */
@Injectable()
export class PluginFilesMove {
  private readonly logger = new Logger(PluginFilesMove.name);

  constructor(
    @InjectRepository(PluginVersion) private readonly versions: Repository<PluginVersion>,
    private readonly disk: DiskPluginStorage,
    private readonly database: DatabasePluginStorage,
  ) {}

  async toDatabase(options: { removeFromDisk: boolean; progress?: (line: string) => void }): Promise<MoveReport> {
    const report: MoveReport = { moved: 0, alreadyThere: 0, failed: [], removedFromDisk: 0 };
    const rows = await this.versions.find({ relations: { plugin: true }, order: { createdAt: 'ASC' } });
    const there = await this.database.storedKeys(rows.map((r) => r.storageKey));
    for (const row of rows) {
      const name = `${row.plugin?.name ?? row.pluginId} ${row.version}`;
      if (there.has(row.storageKey)) {
        report.alreadyThere++;
        continue;
      }
      const file = await this.disk.open(row.storageKey);
      if (!file) {
        report.failed.push(`${name}: ${row.storageKey} is missing on disk`);
        continue;
      }
      await this.database.discard({ path: row.storageKey }); // what an interrupted move left half-copied
      const copy = await this.database.receive(file.stream, row.filename, row.storageKey);
      if (copy.size !== row.size || copy.sha256 !== row.sha256) {
        await this.database.discard({ path: copy.path });
        report.failed.push(`${name}: the file on disk is not the one uploaded (SHA-256 ${copy.sha256}, ${copy.size} bytes; the version says ${row.sha256}, ${row.size} bytes)`);
        continue;
      }
      await this.database.keep(copy);
      report.moved++;
      options.progress?.(`${name}: moved (${copy.size} bytes, SHA-256 checked)`);
      if (options.removeFromDisk) {
        await this.disk.discard({ key: row.storageKey });
        report.removedFromDisk++;
      }
    }
    this.logger.log(`plugin files moved to the database: ${report.moved}, already there ${report.alreadyThere}, failed ${report.failed.length}`);
    return report;
  }
}
