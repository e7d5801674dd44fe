import { isUniqueViolation } from '../common/errors/database-errors';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { In, Repository } from 'typeorm';
import type { Principal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { Plugin } from './plugin.entity';
import { PluginStorage, type IncomingFile } from './storage/plugin-storage';
import { PluginVersion } from './plugin-version.entity';

/**
 * Release versions: 1.0.0, 2.1, 1.0.0rc1, 1.0.0-beta.2, 1.0.0.post1, 1.0.0+build.7 (at most 64
 * characters). Every repeated group starts with a separator, so matching stays linear (no
 * catastrophic backtracking on hostile input); the length is checked first anyway.
 */
export const VERSION_PATTERN = /^\d+(?:\.\d+){0,3}(?:[A-Za-z][A-Za-z0-9]*)?(?:[.+-][A-Za-z0-9]+)*$/;
export const VERSION_MAX = 64;

export function isVersion(value: string): boolean {
  return value.length <= VERSION_MAX && VERSION_PATTERN.test(value);
}

@Injectable()
export class PluginVersionsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PluginVersionsService.name);

  constructor(
    @InjectRepository(PluginVersion) private readonly versions: Repository<PluginVersion>,
    private readonly storage: PluginStorage,
    private readonly audit: AuditService,
  ) {}

  /** Adds a version. The file is kept only if the row is written (no partial file, no row without file). */
  async upload(plugin: Plugin, uploader: Principal, version: unknown, file: IncomingFile | undefined, notes: unknown): Promise<PluginVersion> {
    const v = checkVersion(version);
    if (!file) throw new AppError('FILE_REQUIRED', 'Send the package file as multipart form field "file".');
    const cleanNotes = checkNotes(notes);
    if (await this.versions.exists({ where: { pluginId: plugin.id, version: v } })) {
      throw new AppError('VERSION_EXISTS', `${plugin.name} ${v} exists already; upload a new version or replace it with PUT.`);
    }
    const key = await this.storage.keep(file);
    const row = this.versions.create({
      id: randomUUID(),
      pluginId: plugin.id,
      version: v,
      filename: safeFilename(file.originalname, plugin.name, v),
      size: file.size,
      sha256: file.sha256,
      storageKey: key,
      notes: cleanNotes ?? null,
      ...uploaderFields(uploader),
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    try {
      await this.versions.insert(row);
    } catch (error) {
      await this.storage.discard({ key });
      if (isUniqueViolation(error)) {
        throw new AppError('VERSION_EXISTS', `${plugin.name} ${v} exists already.`);
      }
      throw error;
    }
    this.logger.log(`version uploaded: ${plugin.name} ${v} (${row.size} bytes) by ${row.uploadedBy}`);
    await this.uploadEvent(plugin, row, false);
    return row;
  }

  /** Replaces a version's file and/or notes. */
  async replace(plugin: Plugin, uploader: Principal, version: string, file: IncomingFile | undefined, notes: unknown): Promise<PluginVersion> {
    const row = await this.get(plugin, version);
    const cleanNotes = checkNotes(notes);
    if (!file && cleanNotes === undefined) {
      throw new AppError('FILE_REQUIRED', 'Send a new file (form field "file"), new notes (form field "notes"), or both.');
    }
    const oldKey = row.storageKey;
    const changes: Partial<PluginVersion> = { ...uploaderFields(uploader), updatedAt: new Date() };
    if (cleanNotes !== undefined) changes.notes = cleanNotes;
    if (file) {
      changes.storageKey = await this.storage.keep(file);
      changes.size = file.size;
      changes.sha256 = file.sha256;
      changes.filename = safeFilename(file.originalname, plugin.name, row.version);
    }
    try {
      await this.versions.update({ id: row.id }, changes);
    } catch (error) {
      if (changes.storageKey) await this.storage.discard({ key: changes.storageKey });
      throw error;
    }
    if (changes.storageKey) await this.storage.discard({ key: oldKey });
    this.logger.log(`version replaced: ${plugin.name} ${row.version} by ${changes.uploadedBy}`);
    const updated = { ...row, ...changes } as PluginVersion;
    await this.uploadEvent(plugin, updated, true);
    return updated;
  }

  /** The actor (a user, or "Token <description>") comes from the request. */
  private uploadEvent(plugin: Plugin, row: PluginVersion, replaced: boolean): Promise<void> {
    return this.audit.record('plugin.version_uploaded', {
      subject: { type: 'version', id: row.id, label: `${plugin.name} ${row.version}` },
      pluginId: plugin.id,
      details: { plugin: plugin.name, version: row.version, size: row.size, sha256: row.sha256, replaced },
    });
  }

  list(plugin: Plugin): Promise<PluginVersion[]> {
    return this.versions.find({ where: { pluginId: plugin.id }, order: { createdAt: 'DESC' } });
  }

  async get(plugin: Plugin, version: string): Promise<PluginVersion> {
    const row = isVersion(version) ? await this.versions.findOne({ where: { pluginId: plugin.id, version } }) : null;
    if (!row) throw new AppError('VERSION_NOT_FOUND', `${plugin.name} has no version "${version.slice(0, 64)}".`);
    return row;
  }

  async open(row: PluginVersion) {
    const file = await this.storage.open(row.storageKey);
    if (!file) {
      this.logger.error(`the file of ${row.version} (${row.storageKey}) is missing from the plugin storage`);
      throw new AppError('VERSION_NOT_FOUND', `The file of version ${row.version} is missing on the server.`);
    }
    return file;
  }

  /** At boot: prepares the store in use (PLUGIN_STORAGE only), then deletes stored files no version refers to (left by a crash mid-upload). */
  async onApplicationBootstrap(): Promise<void> {
    await this.storage.prepare();
    const candidates = await this.storage.storedOlderThan(60 * 60 * 1000);
    if (candidates.length === 0) return;
    const referenced = new Set<string>();
    // In batches: SQLite takes at most 32,766 bound parameters in a statement.
    for (let i = 0; i < candidates.length; i += 500) {
      const rows = await this.versions.find({ select: { id: true, storageKey: true }, where: { storageKey: In(candidates.slice(i, i + 500)) } });
      for (const v of rows) referenced.add(v.storageKey);
    }
    const orphans = candidates.filter((key) => !referenced.has(key));
    for (const key of orphans) await this.storage.discard({ key });
    if (orphans.length) this.logger.warn(`removed ${orphans.length} unreferenced plugin file(s)`);
  }
}

function checkVersion(version: unknown): string {
  if (typeof version !== 'string' || version.length === 0) {
    throw new AppError('INVALID_VERSION', 'Give the version as form field "version", e.g. 1.0.0.');
  }
  if (!isVersion(version)) {
    throw new AppError('INVALID_VERSION', `"${version.slice(0, 64)}" is not a version: use digits and dots, e.g. 1.0.0 or 1.0.0rc1.`);
  }
  return version;
}

function checkNotes(notes: unknown): string | undefined {
  if (notes === undefined) return undefined;
  if (typeof notes !== 'string' || notes.length > 10_000) {
    throw new AppError('VALIDATION_FAILED', 'notes must be text of at most 10000 characters.');
  }
  return notes;
}

/** Who uploaded, as stored: the username, or the deploy token's label (`Token {description}`, or the trusted publisher). */
function uploaderFields(p: Principal): Pick<PluginVersion, 'uploadedBy' | 'uploadedByUserId' | 'uploadedByTokenId'> {
  return p.kind === 'plugin_token'
    ? { uploadedBy: p.label.slice(0, 255), uploadedByUserId: null, uploadedByTokenId: p.tokenId }
    : { uploadedBy: p.username, uploadedByUserId: p.userId, uploadedByTokenId: null };
}

/** The client's file name, reduced to a safe display/download name. */
function safeFilename(original: string | undefined, plugin: string, version: string): string {
  const name = basename(original ?? '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 200);
  return name || `${plugin}-${version}.bin`;
}
