/**
 * A scripted connection and a fake GSS-API context for wire-level tests of
 * the RFC 1961 code without a KDC. The fake "wraps" by prefixing one byte:
 * C0 for a confidential message, 50 for an integrity-only one; tokens
 * starting with DD unwrap as replays, BB fail like a forged token.
 *
 * @module
 */

import {
  type GssApi,
  type GssContext,
  type GssCredential,
  GssError,
  type GssLoader,
  type GssStep,
  type GssUnwrapped,
} from "../../src/runtime/gssapi.ts";
import type { Connection } from "../../src/runtime/transport.ts";

/** A connection that reads fixed chunks and records what is written. */
export class ScriptedConnection implements Connection {
  readonly localAddr = { hostname: "127.0.0.1", port: 1080 };
  readonly remoteAddr = { hostname: "127.0.0.1", port: 40000 };
  /** Everything written, in order. */
  readonly written: Uint8Array[] = [];
  /** Whether close() was called. */
  closed = false;
  /** Whether closeWrite() was called. */
  halfClosed = false;
  #chunks: Uint8Array[];

  /**
   * Creates the instance.
   *
   * @param chunks What reads return, one chunk (or less) per read.
   */
  constructor(...chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
  }

  /** Returns the next chunk, or as much of it as fits; `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks[0];
    if (chunk === undefined) return Promise.resolve(null);
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return Promise.resolve(n);
  }

  /** Records the bytes. */
  write(bytes: Uint8Array): Promise<number> {
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  /** Records the half-close. */
  closeWrite(): Promise<void> {
    this.halfClosed = true;
    return Promise.resolve();
  }

  /** Records the close. */
  close(): void {
    this.closed = true;
  }

  /** All written bytes, concatenated. */
  get all(): Uint8Array {
    const out = new Uint8Array(
      this.written.reduce((n, c) => n + c.length, 0),
    );
    let offset = 0;
    for (const chunk of this.written) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Options of {@linkcode FakeGssContext}. */
export interface FakeGssOptions {
  /** Tokens to answer each step with; the last step completes. */
  outputs?: Array<Uint8Array | null>;
  /** Throw a GssError on this step (0-based). */
  failStep?: number;
  /** What targetName() returns. */
  target?: string;
  /** What peerName() returns. */
  peer?: string;
}

/** A context whose wrap is a one-byte prefix. */
export class FakeGssContext implements GssContext {
  /** The tokens each step received. */
  readonly inputs: Array<Uint8Array | null> = [];
  /** How often close() was called. */
  closes = 0;
  #options: FakeGssOptions;

  /**
   * Creates the instance.
   *
   * @param options Steps, failures and names.
   */
  constructor(options: FakeGssOptions = {}) {
    this.#options = options;
  }

  /** Records the input; answers the scripted output. */
  step(input: Uint8Array | null): Promise<GssStep> {
    const index = this.inputs.length;
    this.inputs.push(input && input.slice());
    if (index === this.#options.failStep) {
      return Promise.reject(
        new GssError("Accepting the security context failed: Invalid token"),
      );
    }
    const outputs = this.#options.outputs ?? [null];
    return Promise.resolve({
      output: outputs[index] ?? null,
      complete: index >= outputs.length - 1,
    });
  }

  /** The scripted peer. */
  peerName(): string {
    return this.#options.peer ?? "alice@SOCKS.TEST";
  }

  /** The scripted target. */
  targetName(): string {
    return this.#options.target ?? "rcmd/localhost@SOCKS.TEST";
  }

  /** Prefixes C0 (confidential) or 50. */
  wrap(data: Uint8Array, confidential: boolean): Uint8Array {
    return Uint8Array.of(confidential ? 0xc0 : 0x50, ...data);
  }

  /** Reverses wrap(); DD marks a replay, BB a forgery. */
  unwrap(token: Uint8Array): GssUnwrapped {
    const kind = token[0];
    if (kind === 0xbb || token.length === 0) {
      throw new GssError("Unwrapping a message failed: Invalid token");
    }
    return {
      data: token.slice(1),
      confidential: kind === 0xc0,
      qop: 0,
      supplementary: kind === 0xdd ? 1 << 1 : kind === 0x6a ? 1 << 4 : 0,
    };
  }

  /** Counts the call. */
  close(): void {
    this.closes++;
  }
}

/** A credential handing out one fake context. */
export function fakeCredential(context: FakeGssContext): GssCredential {
  return {
    accept: () => context,
    initiate: () => context,
    close: () => {},
  };
}

/**
 * A GSS-API loader whose acceptor hands out a fresh fake context per
 * connection.
 *
 * @param options The contexts' script.
 * @returns The loader, and the contexts made so far.
 */
export function fakeGssLoader(options: FakeGssOptions = {}): {
  load: GssLoader;
  contexts: FakeGssContext[];
} {
  const contexts: FakeGssContext[] = [];
  const credential: GssCredential = {
    accept: () => {
      const context = new FakeGssContext(options);
      contexts.push(context);
      return context;
    },
    initiate: () => new FakeGssContext(options),
    close: () => {},
  };
  const api: GssApi = {
    acceptor: () => Promise.resolve(credential),
    initiator: () => Promise.resolve(credential),
  };
  return { load: () => Promise.resolve(api), contexts };
}
