#!/usr/bin/env node
import { runCli } from './program.js';

// exitCode rather than exit() so that buffered output to a pipe is flushed first.
process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
