/**
 * Keeps a Bun listener from running the process out of file descriptors.
 *
 * When `accept()` fails with EMFILE, Bun's event loop finds the listening
 * socket readable again at once and retries without end: measured, a Bun
 * server at its descriptor limit burns a whole core (both with `Bun.listen`
 * and with `node:net`), and the program never sees an error it could back
 * off on. So the Bun adapter counts its own sockets and stops listening
 * shortly before the limit, turning exhaustion into an accept failure of
 * kind `exhausted` that the core's accept loop backs off on, and listens
 * again once sockets have closed.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";

/** Sockets (TCP and UDP) this adapter has open right now. */
export const openSockets = { count: 0 };

/** Listeners stopped near the limit, waiting for descriptors to free up. */
const _stopped = new Set<{ resume(): void }>();

/**
 * Registers a stopped listener; it is resumed from
 * {@linkcode socketClosed} once descriptors are free.
 *
 * @param listener Its `resume()` tries to listen again.
 */
export function waitForDescriptors(listener: { resume(): void }): void {
  _stopped.add(listener);
}

/**
 * Counts a closed socket and resumes stopped listeners when there is room.
 */
export function socketClosed(): void {
  openSockets.count--;
  if (_stopped.size === 0) return;
  for (const listener of [..._stopped]) {
    _stopped.delete(listener);
    listener.resume();
  }
}

/**
 * The soft limit on open descriptors (Linux `/proc/self/limits`), or
 * `Infinity` where it cannot be read.
 */
export function descriptorLimit(): number {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    return match && match[1] !== "unlimited" ? Number(match[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

function _openDescriptors(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

/** Decides when a listener must stop and may start again. */
export class DescriptorGuard {
  #limit: number;
  #reserve: number;
  /** Descriptors that are not this adapter's sockets (files, epoll, …). */
  #baseline: number;

  /** Reads the limit and the descriptors already open. */
  constructor() {
    this.#limit = descriptorLimit();
    // Room for what sessions already accepted still open: their outbound
    // connections, UDP sockets, log files.
    this.#reserve = Math.max(8, Math.ceil(this.#limit / 32));
    this.#baseline = Math.max(0, _openDescriptors() - openSockets.count);
  }

  /** Whether the process is so close to its limit that accepting must stop. */
  mustStop(): boolean {
    if (this.#limit === Infinity) return false;
    if (this.#baseline + openSockets.count < this.#limit - this.#reserve) {
      return false;
    }
    // The estimate says full: count for real before stopping.
    const open = _openDescriptors();
    this.#baseline = Math.max(0, open - openSockets.count);
    return open >= this.#limit - this.#reserve;
  }

  /** Whether enough descriptors are free to listen again. */
  mayResume(): boolean {
    if (this.#limit === Infinity) return true;
    const low = this.#limit - 2 * this.#reserve;
    // The estimate first: counting for real on every close would cost.
    if (this.#baseline + openSockets.count >= low) return false;
    return _openDescriptors() < low;
  }
}
