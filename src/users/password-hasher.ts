import { Injectable } from '@nestjs/common';
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';

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

@Injectable()
export class PasswordHasher {
  /** A real hash of a random password: verifying against it costs what a real check costs. */
  private dummyHash?: Promise<string>;

  hash(password: string): Promise<string> {
    return hash(password, PASSWORD_HASH_OPTIONS);
  }

  /** Constant work whether or not `stored` exists, so timing does not reveal unknown users. */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    if (!stored) {
      this.dummyHash ??= this.hash(`dummy-${Math.random()}-${Date.now()}`);
      await verify(await this.dummyHash, password).catch(() => false);
      return false;
    }
    try {
      return await verify(stored, password);
    } catch {
      return false;
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
