/** Wakes everything waiting for the rollout's controls to change (resume, abort). */
export class Wakeup {
  private resolve: () => void = () => undefined;
  private waiting = this.arm();

  /** Take it synchronously after checking the condition, so that no wake can slip in between. */
  next(): Promise<void> {
    return this.waiting;
  }

  wake(): void {
    this.resolve();
    this.waiting = this.arm();
  }

  private arm(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }
}
