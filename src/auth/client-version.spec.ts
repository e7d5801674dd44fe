import { reportsLegacyPasswordMode } from './client-version';

describe('reportsLegacyPasswordMode', () => {
  it.each([
    ['python-tiled/0.1.0b16', true],
    ['python-tiled/0.1.0a104', true],
    ['python-tiled/0.0.9', true],
    ['python-tiled/0.1.0b17', false],
    ['python-tiled/0.1.0rc1', false],
    ['python-tiled/0.1.0', false],
    ['python-tiled/0.2.16', false],
    ['curl/8.0', false],
    [undefined, false],
  ])('%s → %s', (ua, expected) => {
    expect(reportsLegacyPasswordMode(ua)).toBe(expected);
  });
});
