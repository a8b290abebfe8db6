import { runCli } from './cli/run-cli';

// Entry of the `torsh-depot` bin: wires the real process to the testable CLI.
const stopSignal = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal }).then(
  (code) => {
    process.exitCode = code;
    // Servers and timers are closed by the commands; exit explicitly so a stray handle cannot hang CI.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`torsh-depot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
