/**
 * Bounded restarts after a crash, as the LSP client does them: at most `max` restarts within
 * `windowMs` (4 in 3 minutes by default). A deliberate stop is never restarted.
 *
 * No `vscode` and no clock of its own: the caller passes `now`, so tests are exact.
 */
export class RestartPolicy {
  private readonly times: number[] = [];

  constructor(
    readonly max = 4,
    readonly windowMs = 3 * 60_000,
  ) {}

  /** Records a crash at `now`; true when a restart is still allowed. */
  shouldRestart(now: number): boolean {
    while (this.times.length > 0 && now - this.times[0] > this.windowMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }

  /** Restarts counted in the current window (for the status message). */
  get recent(): number {
    return this.times.length;
  }

  /** A deliberate restart by the user clears the count. */
  reset(): void {
    this.times.length = 0;
  }
}
