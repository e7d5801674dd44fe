/**
 * Runs before every e2e suite: quiet logs, fixed test secrets (never used outside tests) and a
 * private data directory, so suites never touch ./data.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'fatal';
process.env.SECRET_KEYS = 'test-signing-key-0123456789abcdefghijklmnopqrstuvwxyz';
process.env.SIGNING_KEYS =
  '{"kty":"EC","x":"AIuQjeX7NfpCGgwdquUCLhWNJfKGrtdzs37RtO5PtYA","y":"Wu7tUisVIIW8iDlJ1VqcxmAArKgI2Yo_6righEQcwfE","crv":"P-256","d":"BWzo_KMGmYBG61Rckn-_77HDJcwZNmkPwWlNoAVxYFs"}';
process.env.TOKEN_PEPPER = 'test-pepper-0123456789abcdefghijklmnopqrstuvwxyz';
process.env.DATA_DIR = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
