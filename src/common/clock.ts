import { Injectable } from '@nestjs/common';

/**
 * The time, injectable so that tests can move it (e.g. past a deploy token's rotation overlap)
 * without sleeping. Services whose rules depend on long durations take it instead of `new Date()`.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
