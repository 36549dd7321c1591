#!/usr/bin/env node
import { runCli } from './program.js';
import type { Terminal } from './io.js';

// TERM=dumb (Emacs shells, some CI runners) cannot move the cursor; NO_COLOR is the common opt-out.
const terminal: Terminal | undefined =
  process.stdout.isTTY && process.env['TERM'] !== 'dumb'
    ? {
        size: () => ({ columns: process.stdout.columns, rows: process.stdout.rows }),
        color: !process.env['NO_COLOR'],
      }
    : undefined;

// exitCode rather than exit() so that buffered output to a pipe is flushed first.
process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  terminal,
});
