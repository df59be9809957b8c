/**
 * Which configuration the server runs: a generation number that each reload
 * bumps, and when it was loaded. The status page and `/metrics` show it.
 *
 * @module
 */

/** The running configuration's generation. */
export interface ConfigStatus {
  /** 1 at start, +1 per successful reload. */
  generation: number;
  /** When this generation was loaded, ms since the epoch. */
  loadedAt: number;
}

/**
 * The status at start: generation 1, loaded now.
 *
 * @param now The clock, ms since the epoch.
 * @returns A mutable status.
 */
export function createConfigStatus(now: number = Date.now()): ConfigStatus {
  return { generation: 1, loadedAt: now };
}

/**
 * Records a successful reload.
 *
 * @param status The status to update in place.
 * @param now When the new configuration took effect.
 */
export function markReloaded(
  status: ConfigStatus,
  now: number = Date.now(),
): void {
  status.generation++;
  status.loadedAt = now;
}
