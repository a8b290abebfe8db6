// Loaded with `node --import` into a child process: on exit it writes the process's peak resident set
// size (bytes) to $TORSH_DEPOT_MAX_RSS_FILE, so tests and benchmarks can bound memory without GNU time.
import { writeFileSync } from 'node:fs';

const target = process.env.TORSH_DEPOT_MAX_RSS_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, String(process.resourceUsage().maxRSS * 1024));
  });
}
