/**
 * Reads the soft limit on open files from Linux's `/proc/self/limits` text.
 * Pure: the runtimes read the file, this parses it.
 *
 * @module
 */

/**
 * Finds the soft "Max open files" limit.
 *
 * @param text The content of `/proc/self/limits`.
 * @returns The limit, or `null` when absent or unlimited.
 */
export function parseMaxOpenFiles(text: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return Number.isSafeInteger(value) ? value : null;
}
