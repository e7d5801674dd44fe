import { EventEmitter } from 'node:events';
import type { ServerResponse as Response } from 'node:http';
import { whenAnswered } from './answered';
import type { LatchkeyRequest } from './request-context';

const req = {} as LatchkeyRequest;

describe('whenAnswered', () => {
  it('calls every callback once, in order, when the response closes, with the arrival time; one listener in all', () => {
    const res = new EventEmitter() as unknown as Response;
    const seen: string[] = [];
    const before = performance.now();
    whenAnswered(['metrics', 'log', 'gate'].map((name) => (_q: LatchkeyRequest, r: Response, started: number) => {
      expect(r).toBe(res);
      expect(started).toBeGreaterThanOrEqual(before);
      seen.push(name);
    }))(req, res);
    expect(seen).toEqual([]);
    expect((res as unknown as EventEmitter).listenerCount('close')).toBe(1);
    res.emit('close');
    res.emit('close');
    expect(seen).toEqual(['metrics', 'log', 'gate']);
  });

  it('runs the others when one throws, then throws on what it threw (as its own listener would)', () => {
    const res = new EventEmitter() as unknown as Response;
    const after = jest.fn();
    const boom = new Error('boom');
    whenAnswered([
      () => {
        throw boom;
      },
      after,
    ])(req, res);
    expect(() => res.emit('close')).toThrow(boom);
    expect(after).toHaveBeenCalledTimes(1);
  });
});
