import { Injectable } from '@nestjs/common';
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { AppError } from '../common/errors/app-error';
import { QueueFullError, Semaphore } from '../common/rate-limit/semaphore';
import { AppConfig, InjectConfig } from '../config/app.config';

/**
 * argon2id at the OWASP Password Storage Cheat Sheet's first recommendation (19 MiB, t=2, p=1).
 * `@node-rs/argon2` ships its binary inside the npm package: nothing to build or download.
 */
const ARGON2ID = 2 as Algorithm; // Algorithm.Argon2id (a const enum, not available at runtime)
export const PASSWORD_HASH_OPTIONS: Readonly<Options> = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Every argon2 operation goes through one semaphore: at most HASH_CONCURRENCY run at once (each
 * holds a libuv thread and a CPU core for ~10 ms and 19 MiB), up to HASH_QUEUE_LIMIT more wait
 * their turn, and beyond that the request is refused at once with 503 and Retry-After. So a
 * login flood queues behind a few cores instead of taking every core and the whole libuv pool
 * (which SQLite and file I/O share), and routes that hash nothing keep answering.
 */
@Injectable()
export class PasswordHasher {
  /** A real hash of a random password: verifying against it costs what a real check costs. */
  private dummyHash?: Promise<string>;
  private readonly gate: Semaphore;

  constructor(@InjectConfig() config: AppConfig) {
    this.gate = new Semaphore(config.passwordHashing.concurrency, config.passwordHashing.queueLimit);
  }

  /** argon2 operations running and waiting now (for metrics). */
  get load(): { running: number; queued: number; limit: number; queueLimit: number } {
    return { running: this.gate.active, queued: this.gate.queued, limit: this.gate.limit, queueLimit: this.gate.queueLimit };
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => hash(password, PASSWORD_HASH_OPTIONS));
  }

  /** Constant work whether or not `stored` exists, so timing does not reveal unknown users. */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    if (!stored) {
      // Made once (through the gate too); a refused attempt leaves no rejected promise behind.
      this.dummyHash ??= this.hash(`dummy-${Math.random()}-${Date.now()}`).catch((error: unknown) => {
        this.dummyHash = undefined;
        throw error;
      });
      const dummy = await this.dummyHash;
      await this.bounded(() => verify(dummy, password).catch(() => false));
      return false;
    }
    return this.bounded(async () => {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    });
  }

  private async bounded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(operation);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      const message = 'Too many password checks in progress. Retry shortly.';
      throw new AppError('SERVICE_UNAVAILABLE', message, { headers: { 'Retry-After': '1' } });
    }
  }

  /** True when a stored hash was made with weaker or other parameters than today's. */
  needsRehash(stored: string): boolean {
    try {
      const p = parseOptions(stored);
      return (
        p.algorithm !== ARGON2ID ||
        p.memoryCost !== PASSWORD_HASH_OPTIONS.memoryCost ||
        p.timeCost !== PASSWORD_HASH_OPTIONS.timeCost ||
        p.parallelism !== PASSWORD_HASH_OPTIONS.parallelism
      );
    } catch {
      return true;
    }
  }
}
