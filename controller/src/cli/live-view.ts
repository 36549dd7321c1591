import type { msg } from '@fleetroll/shared';
import type { Terminal } from './io.js';
import { render } from './live.js';

const TICK_MS = 1_000;

/**
 * Keeps the live block at the bottom of the terminal: log lines scroll above it,
 * and the block is erased and drawn again on every update, and once a second so
 * that elapsed times move while an agent sits in a long drain.
 */
export class LiveView {
  private status: msg.RolloutStatus__Output | undefined;
  private drawn = 0;
  /** Local clock minus the controller's, so elapsed times are right when the two machines disagree. */
  private skew = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: Terminal,
    private readonly clock: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.draw([]), TICK_MS);
    // The watch stream decides when the command ends, not this timer.
    this.timer.unref();
  }

  show(logLines: readonly string[], status: msg.RolloutStatus__Output | null): void {
    if (status) {
      this.status = status;
      this.skew = this.clock() - status.updatedAtMs;
    }
    this.draw(logLines);
  }

  /** Stops ticking; the last block stays on screen above whatever is printed next. */
  close(): void {
    clearInterval(this.timer);
  }

  private draw(logLines: readonly string[]): void {
    const { columns, rows } = this.terminal.size();
    // Up to the first line of the old block, then erase from there to the end of the screen.
    let out = this.drawn > 0 ? `\r\x1b[${this.drawn}A\x1b[J` : '';
    for (const line of logLines) out += `${line}\n`;
    const block = this.status
      ? render(this.status, Math.max(20, columns - 1), {
          now: this.clock() - this.skew,
          color: this.terminal.color,
          maxLines: Math.max(1, rows - 1),
        })
      : [];
    for (const line of block) out += `${line}\n`;
    this.drawn = block.length;
    if (out !== '') this.write(out);
  }
}
