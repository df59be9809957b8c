/**
 * Which configuration is in force: a generation number (1 at start, one
 * more per successful reload) and when it was loaded. The status page and
 * logs show them.
 *
 * @module
 */

/** The generation and load time of the configuration in force. */
export class ConfigState {
  /** 1 at start, one more per successful reload. */
  generation = 1;
  /** When the configuration in force was loaded. */
  loadedAt: Date = new Date();
  /** Successful reloads so far. */
  reloads = 0;
  /** Rejected reloads so far. */
  failedReloads = 0;
  /** The last rejected reload's message, if any. */
  lastError: string | null = null;

  /** Records a successful reload. */
  bump(): void {
    this.generation++;
    this.reloads++;
    this.loadedAt = new Date();
  }

  /**
   * Records a rejected reload.
   *
   * @param message Why, in one line.
   */
  fail(message: string): void {
    this.failedReloads++;
    this.lastError = message;
  }
}
