import { Injectable } from '@nestjs/common';

/**
 * The time, injectable so that tests can move it (e.g. past a deploy token's rotation overlap)
 * without sleeping. Services whose rules depend on long durations take it instead of `new Date()`.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date(this.nowMs());
  }

  /** Milliseconds since the epoch, without allocating a Date (hot paths). */
  nowMs(): number {
    return Date.now();
  }
}
