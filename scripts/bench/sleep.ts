/**
 * Waiting, for the benchmark and memory scripts.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms How long to wait.
 * @returns A promise that resolves then.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
