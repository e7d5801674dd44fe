import { Clock } from '../../src/common/clock';

/** A Clock the test moves by hand: starts at the real time, advances only when told. */
export class FakeClock extends Clock {
  private offsetMs = 0;

  override nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
