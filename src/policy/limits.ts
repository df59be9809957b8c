/**
 * Per-user and per-client limits: concurrent sessions, new connections per
 * second, failed logins per minute and bandwidth (token buckets). Every
 * count lives in {@linkcode SharedCounters}, so the limits hold across the
 * workers of `--workers`.
 *
 * @module
 */

import { SharedCounters } from "./shared_counters.ts";

/** The limits an operator sets; absent = unlimited. */
export interface LimitSettings {
  /** Concurrent sessions of one user, counted after authentication. */
  sessionsPerUser?: number;
  /** Concurrent sessions from one client IP, counted after authentication. */
  sessionsPerClient?: number;
  /** New connections per second from one client IP. */
  connRatePerClient?: number;
  /** Failed logins per minute from one client IP before it is throttled. */
  authFailuresPerMinute?: number;
  /** Bytes per second one user may send (all sessions together). */
  userUpload?: number;
  /** Bytes per second one user may receive (all sessions together). */
  userDownload?: number;
  /** Bytes per second one session may send. */
  sessionUpload?: number;
  /** Bytes per second one session may receive. */
  sessionDownload?: number;
}

/** A bandwidth limit the relay asks before it writes. */
export interface RateLimit {
  /**
   * Takes `bytes` from the allowance.
   *
   * @param bytes What was read and is about to be written.
   * @returns How long to wait before writing, in ms (0: at once).
   */
  consume(bytes: number): number;
  /** The slowest rate involved, bytes per second (sizes the relay buffer). */
  readonly rate: number;
}

/** A session's place in the concurrent-session counts. */
export interface SessionLease {
  /** Gives the place back; idempotent. */
  release(): void;
}

/** The lease of a session that no limit counts: releasing it does nothing. */
const _FREE_LEASE: SessionLease = Object.freeze({ release() {} });

/**
 * A token bucket holds at most a quarter second of traffic, so a transfer
 * of N bytes at R bytes/s takes at least N/R − 0.25 s.
 */
const _BURST_SECONDS = 0.25;

/** The limits of one server (or of every worker sharing `counters`). */
export class Limits {
  /** The settings in force. */
  readonly settings: Readonly<LimitSettings>;
  /** The shared table behind every count. */
  readonly counters: SharedCounters;

  /**
   * Creates the limits.
   *
   * @param settings Which limits apply.
   * @param counters The table to count in (shared between workers);
   * a new one by default.
   */
  constructor(settings: LimitSettings, counters?: SharedCounters) {
    this.settings = { ...settings };
    this.counters = counters ?? SharedCounters.create();
  }

  /** Whether any bandwidth limit is set. */
  get shapesTraffic(): boolean {
    const s = this.settings;
    return !!(s.userUpload || s.userDownload || s.sessionUpload ||
      s.sessionDownload);
  }

  /**
   * Counts a new connection from `ip` in the current second.
   *
   * @param ip The client's IP.
   * @returns Whether it is within `connRatePerClient`.
   */
  admitConnection(ip: string): boolean {
    const max = this.settings.connRatePerClient;
    if (!max) return true;
    return this.#windowHit(`r:${ip}`, 1_000, max, true);
  }

  /**
   * Whether `ip` may try to log in (it has not used up its failures).
   *
   * @param ip The client's IP.
   * @returns False while it is throttled.
   */
  authAllowed(ip: string): boolean {
    const max = this.settings.authFailuresPerMinute;
    if (!max) return true;
    return this.#windowHit(`f:${ip}`, 60_000, max, false);
  }

  /**
   * Counts a failed login from `ip`.
   *
   * @param ip The client's IP.
   */
  authFailed(ip: string): void {
    const max = this.settings.authFailuresPerMinute;
    if (!max) return;
    this.#windowHit(`f:${ip}`, 60_000, Number.MAX_SAFE_INTEGER, true);
  }

  /**
   * Takes a place for a session of `user` from `ip`.
   *
   * @param user The authenticated user, or `null`.
   * @param ip The client's IP.
   * @returns The lease, or which limit refused it.
   */
  acquireSession(
    user: string | null,
    ip: string,
  ): SessionLease | "user" | "client" {
    const { sessionsPerUser, sessionsPerClient } = this.settings;
    const c = this.counters;
    const held: number[] = [];
    if (sessionsPerUser && user !== null) {
      const slot = c.slot(`u:${user}`);
      if (!c.incrementBelow(slot, 0, sessionsPerUser)) return "user";
      held.push(slot);
    }
    if (sessionsPerClient) {
      const slot = c.slot(`c:${ip}`);
      if (!c.incrementBelow(slot, 0, sessionsPerClient)) {
        for (const s of held) c.add(s, 0, -1);
        return "client";
      }
      held.push(slot);
    }
    // Nothing counted (no session limits): one shared lease, no closure.
    if (held.length === 0) return _FREE_LEASE;
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        for (const s of held) c.add(s, 0, -1);
      },
    };
  }

  /**
   * The bandwidth limits of one session, each direction.
   *
   * @param user The authenticated user, or `null` (no per-user bucket).
   * @returns Up (client → destination) and down, each `undefined` when
   * unlimited.
   */
  sessionRates(user: string | null): {
    up: RateLimit | undefined;
    down: RateLimit | undefined;
  } {
    const s = this.settings;
    const make = (perUser?: number, perSession?: number, tag?: string) => {
      const buckets: RateLimit[] = [];
      if (perUser && user !== null) {
        buckets.push(
          new _SharedBucket(this.counters, `${tag}:${user}`, perUser),
        );
      }
      if (perSession) buckets.push(new LocalBucket(perSession));
      if (buckets.length === 0) return undefined;
      return buckets.length === 1 ? buckets[0] : new _AllOf(buckets);
    };
    return {
      up: make(s.userUpload, s.sessionUpload, "bu"),
      down: make(s.userDownload, s.sessionDownload, "bd"),
    };
  }

  /** A fixed-window count: v0 = window number + 1, v1 = hits in it. */
  #windowHit(
    key: string,
    windowMs: number,
    max: number,
    count: boolean,
  ): boolean {
    const c = this.counters;
    const slot = c.slot(key);
    const window = Math.floor(c.tick() / windowMs) + 1;
    const seen = c.load(slot, 0);
    if (seen !== window && c.swap(slot, 0, seen, window)) {
      c.swap(slot, 1, c.load(slot, 1), 0);
    }
    if (!count) return c.load(slot, 1) < max;
    return c.incrementBelow(slot, 1, max);
  }
}

/** A token bucket of one session (no sharing needed). */
export class LocalBucket implements RateLimit {
  /** Bytes per second. */
  readonly rate: number;
  #tokens: number;
  #last = performance.now();
  #cap: number;

  /**
   * Creates a full bucket.
   *
   * @param rate Bytes per second.
   */
  constructor(rate: number) {
    this.rate = rate;
    this.#cap = Math.max(1, Math.floor(rate * _BURST_SECONDS));
    this.#tokens = this.#cap;
  }

  /** Takes bytes; the bucket may go into debt, which is waited off. */
  consume(bytes: number): number {
    const now = performance.now();
    this.#tokens = Math.min(
      this.#cap,
      this.#tokens + (now - this.#last) * this.rate / 1_000,
    );
    this.#last = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens * 1_000 / this.rate);
  }
}

/** A token bucket in the shared table: v0 = tokens, v1 = last tick + 1. */
class _SharedBucket implements RateLimit {
  readonly rate: number;
  #counters: SharedCounters;
  #slot: number;
  #cap: number;

  constructor(counters: SharedCounters, key: string, rate: number) {
    this.rate = rate;
    this.#counters = counters;
    this.#slot = counters.slot(key);
    this.#cap = Math.max(1, Math.floor(rate * _BURST_SECONDS));
    const now = counters.tick() + 1;
    if (counters.swap(this.#slot, 1, 0, now)) {
      counters.add(this.#slot, 0, this.#cap);
    }
  }

  consume(bytes: number): number {
    const c = this.#counters;
    const slot = this.#slot;
    const now = c.tick() + 1;
    const last = c.load(slot, 1);
    const add = Math.floor((now - last) * this.rate / 1_000);
    // Only the worker that moves the clock forward adds the tokens.
    if (add > 0 && c.swap(slot, 1, last, now)) {
      for (;;) {
        const tokens = c.load(slot, 0);
        const next = Math.min(this.#cap, tokens + add);
        if (next <= tokens || c.swap(slot, 0, tokens, next)) break;
      }
    }
    const left = c.add(slot, 0, -bytes);
    return left >= 0 ? 0 : Math.ceil(-left * 1_000 / this.rate);
  }
}

/** Several buckets at once: the longest wait wins. */
class _AllOf implements RateLimit {
  readonly rate: number;
  #buckets: RateLimit[];

  constructor(buckets: RateLimit[]) {
    this.#buckets = buckets;
    this.rate = Math.min(...buckets.map((b) => b.rate));
  }

  consume(bytes: number): number {
    let wait = 0;
    for (const bucket of this.#buckets) {
      wait = Math.max(wait, bucket.consume(bytes));
    }
    return wait;
  }
}
