/**
 * Counters keyed by name (a user, a client IP) in a `SharedArrayBuffer`, so
 * that every worker of `--workers` counts against the same numbers: the
 * per-user and per-client limits hold for the whole process, not per event
 * loop. Lock-free: every update is one `Atomics` compare-and-swap loop.
 *
 * The table is open-addressed with 64-bit tags and never shrinks. When it
 * is full (more distinct keys than slots over the process's life), new keys
 * share one overflow slot: limits then get stricter for them, never looser.
 *
 * @module
 */

/** Int32 words per slot: two tag words, then three values. */
const _WORDS = 5;
/** Probes before a key falls back to the overflow slot. */
const _MAX_PROBES = 64;
/** Word 0 of the buffer holds the epoch (ms) ticks are counted from. */
const _HEADER = 2;

/** A slot's three values, by index. */
export type SlotValue = 0 | 1 | 2;

/** A table of named counters, shareable between workers. */
export class SharedCounters {
  /** The memory; post it to a worker and wrap it there again. */
  readonly buffer: SharedArrayBuffer;
  #words: Int32Array;
  #slots: number;
  #epoch: number;

  /**
   * Wraps a buffer made by {@linkcode SharedCounters.create}.
   *
   * @param buffer The shared memory.
   */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
    this.#slots = Math.floor((this.#words.length - _HEADER) / _WORDS);
    // The epoch is split over two words: milliseconds since 1970 do not fit
    // one int32.
    this.#epoch = this.#words[0]! * 2 ** 31 + this.#words[1]!;
  }

  /**
   * Makes a new table.
   *
   * @param slots How many distinct keys it holds (slot 0 is the overflow).
   * @returns The table.
   */
  static create(slots = 65_536): SharedCounters {
    const buffer = new SharedArrayBuffer((_HEADER + slots * _WORDS) * 4);
    const words = new Int32Array(buffer);
    const now = Date.now();
    words[0] = Math.floor(now / 2 ** 31);
    words[1] = now % 2 ** 31;
    return new SharedCounters(buffer);
  }

  /** Milliseconds since the table was made, the same in every worker. */
  tick(): number {
    return Date.now() - this.#epoch;
  }

  /**
   * Finds (or claims) the slot of a key.
   *
   * @param key Any string, for example `u:alice`.
   * @returns The index of the slot's first value word.
   */
  slot(key: string): number {
    const [a, b] = _tags(key);
    const words = this.#words;
    let index = (a >>> 0) % (this.#slots - 1) + 1;
    for (let probe = 0; probe < _MAX_PROBES; probe++) {
      const base = _HEADER + index * _WORDS;
      let seen = Atomics.load(words, base);
      if (seen === 0) {
        seen = Atomics.compareExchange(words, base, 0, a);
        if (seen === 0) {
          Atomics.store(words, base + 1, b);
          return base + 2;
        }
      }
      if (seen === a) {
        // Claimed by another worker a moment ago: its second tag follows.
        let second = Atomics.load(words, base + 1);
        for (let spin = 0; second === 0 && spin < 1_000_000; spin++) {
          second = Atomics.load(words, base + 1);
        }
        if (second === b) return base + 2;
      }
      index = index + 1 === this.#slots ? 1 : index + 1;
    }
    return _HEADER + 2;
  }

  /**
   * Reads a value.
   *
   * @param slot From {@linkcode slot}.
   * @param value Which of its three values.
   * @returns The value.
   */
  load(slot: number, value: SlotValue): number {
    return Atomics.load(this.#words, slot + value);
  }

  /**
   * Adds to a value.
   *
   * @param slot From {@linkcode slot}.
   * @param value Which of its three values.
   * @param by How much (negative to subtract).
   * @returns The new value.
   */
  add(slot: number, value: SlotValue, by: number): number {
    return Atomics.add(this.#words, slot + value, by) + by;
  }

  /**
   * Replaces a value if it still is `expected`.
   *
   * @param slot From {@linkcode slot}.
   * @param value Which of its three values.
   * @param expected What it must be.
   * @param next What it becomes.
   * @returns Whether it was replaced.
   */
  swap(
    slot: number,
    value: SlotValue,
    expected: number,
    next: number,
  ): boolean {
    return Atomics.compareExchange(
      this.#words,
      slot + value,
      expected,
      next,
    ) ===
      expected;
  }

  /**
   * Adds one to a value unless it has reached `max`.
   *
   * @param slot From {@linkcode slot}.
   * @param value Which of its three values.
   * @param max The ceiling.
   * @returns Whether it was added.
   */
  incrementBelow(slot: number, value: SlotValue, max: number): boolean {
    for (;;) {
      const current = this.load(slot, value);
      if (current >= max) return false;
      if (this.swap(slot, value, current, current + 1)) return true;
    }
  }
}

/** Two independent 32-bit FNV-1a hashes of the key, both non-zero. */
function _tags(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return [a | 0 || 1, b | 0 || 1];
}
