import type { Readable } from 'node:stream';

/** Incoming or unreferenced files this old are leftovers of a crash, never an upload in progress. */
export const STALE_MS = 60 * 60 * 1000;

/** What an upload leaves in the store's incoming area: a complete file with its size and digest. */
export interface IncomingFile {
  /** Where the incoming file is, in the store's own terms (a path, a key). */
  path: string;
  size: number;
  sha256: string;
  originalname: string;
}

/**
 * Where plugin files live (PLUGIN_STORAGE): on local disk (`DiskPluginStorage`) or in the database
 * (`DatabasePluginStorage`), which every instance reaches. Both stream: an upload is received in
 * one pass (size and SHA-256 computed on the way, never held whole in memory) into an incoming
 * area, then kept under a random key when its version row is written; a download is read back in
 * pieces. A failed or aborted upload leaves nothing behind.
 */
export abstract class PluginStorage {
  /** At start, for the store in use only (PluginVersionsService): create what it needs, remove a crash's leftovers. */
  abstract prepare(): Promise<void>;

  /** Streams an upload into the incoming area while its SHA-256 and size are computed. A stream that fails leaves nothing behind. */
  abstract receive(stream: Readable, originalname: string): Promise<IncomingFile>;

  /** Moves an incoming file into the store; returns its storage key. */
  abstract keep(file: IncomingFile): Promise<string>;

  /** Deletes an incoming file (`path`: only while it is still incoming) or a stored one (`key`); no error when gone. */
  abstract discard(pathOrKey: { path?: string; key?: string }): Promise<void>;

  /** The stored file as a stream, or undefined when it is missing. */
  abstract open(key: string): Promise<{ stream: Readable; size: number } | undefined>;

  /** Stored files (not incoming ones) older than `ms`: candidates for the sweep of unreferenced files. */
  abstract storedOlderThan(ms: number): Promise<string[]>;
}
