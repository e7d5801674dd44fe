import { Writable } from 'node:stream';
import pino from 'pino';
import { PinoLoggerService } from './pino-logger.service';

function capture(): { logger: PinoLoggerService; lines: () => { msg: string; context?: string }[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (out.push(String(chunk)), done()) });
  return { logger: new PinoLoggerService(pino({ level: 'info' }, stream)), lines: () => out.map((l) => JSON.parse(l)) };
}

describe('PinoLoggerService', () => {
  it("prints a controller's routes under its name only: Nest's heading names the global prefix even for excluded routes", () => {
    const { logger, lines } = capture();
    logger.log('WellKnownController {/api/v1/.well-known}:', 'RoutesResolver');
    logger.log('Mapped {/.well-known/jwks.json, GET} route', 'RouterExplorer');
    expect(lines()).toMatchObject([
      { msg: 'WellKnownController:', context: 'RoutesResolver' },
      { msg: 'Mapped {/.well-known/jwks.json, GET} route', context: 'RouterExplorer' },
    ]);
  });

  it('leaves other messages as they are', () => {
    const { logger, lines } = capture();
    logger.log('Something {in braces}:', 'Other');
    expect(lines()[0].msg).toBe('Something {in braces}:');
  });
});
