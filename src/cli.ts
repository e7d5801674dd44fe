/** Entry point of the operator CLI (`npm run cli -- <command>`); the commands are in cli/cli.ts. */
import { runCli } from './cli/cli';
import { loadDotEnv } from './config/configuration';

// Files it creates (a new SQLite database, development secrets) are the service user's only, as in main.ts.
process.umask(0o077);
loadDotEnv();

runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
