import { hotCommandOf } from './cli/hot-commands';
import { runCommand } from './cli/run-command';

// Entry of the `torsh-depot` bin: wires the real process to the testable CLI.
const stopSignal = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal };
const hotCommand = hotCommandOf(argv);
// A hot command loads only its own modules; everything else loads the whole CLI.
const run = hotCommand ? hotCommand().then((command) => runCommand(argv[0] as string, command, argv.slice(1), io)) : import('./cli/run-cli').then(({ runCli }) => runCli(argv, io));

run.then(
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
