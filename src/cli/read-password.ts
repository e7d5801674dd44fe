import { createInterface } from 'node:readline';

/**
 * Reads a password from standard input: on a terminal, a prompt without echo (twice when
 * `confirm`); when piped, the first line. Throws on an empty or mismatched password.
 */
import type { CliIo } from './cli';

export async function readPassword(io: CliIo, { confirm }: { confirm: boolean }): Promise<string> {
  if (!io.stdin.isTTY) {
    const first = await readFirstLine(io.stdin);
    if (!first) throw new CliInputError('No password on standard input (pipe it in, e.g. `printf %s "$PW" | npm run cli -- …`).');
    return first;
  }
  const password = await prompt('Password: ');
  if (!password) throw new CliInputError('The password is empty.');
  if (confirm && (await prompt('Repeat password: ')) !== password) throw new CliInputError('The passwords do not match.');
  return password;
}

export class CliInputError extends Error {}

function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    stdin.setEncoding('utf8');
    stdin.on('data', (chunk: string | Buffer) => {
      data += chunk.toString();
      if (data.includes('\n') || data.length > 8192) stdin.pause();
      if (data.includes('\n')) resolve(data.split(/\r?\n/)[0]);
    });
    stdin.on('end', () => resolve(data.split(/\r?\n/)[0]));
    stdin.on('error', reject);
  });
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    let prompted = false;
    out._writeToOutput = (s: string) => {
      if (!prompted) {
        out.output.write(s);
        prompted = true;
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}
