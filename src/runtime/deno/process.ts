/**
 * The process on Deno: standard streams, files and signals.
 *
 * @module
 */

import process from "node:process";
import { readFirstLine } from "../read_line.ts";
import type {
  AppendFile,
  ProcessHost,
  ProcessSignal,
  ProcessStats,
} from "../runtime.ts";
import { parseMaxOpenFiles } from "../proc_limits.ts";

const _encoder = new TextEncoder();

/**
 * The `yaml` package reads `process.env.LOG_TOKENS` and `LOG_STREAM` (its
 * debugging switches) on every token it parses, and on Deno reading an
 * environment variable needs `--allow-env`, which the server has no other
 * use for. Without that permission those two read as unset; every other
 * variable behaves as before. (A proxy over an empty object: a proxy over
 * Deno's own env object would ask it for the descriptor anyway.)
 */
function _hideYamlDebugSwitches(): void {
  const state = Deno.permissions.querySync({
    name: "env",
    variable: "LOG_TOKENS",
  }).state;
  if (state === "granted") return;
  const env = process.env;
  const hidden = (key: string | symbol) =>
    key === "LOG_TOKENS" || key === "LOG_STREAM";
  process.env = new Proxy({}, {
    get: (_, key) => hidden(key) ? undefined : Reflect.get(env, key),
    set: (_, key, value) => Reflect.set(env, key, value),
    has: (_, key) => !hidden(key) && Reflect.has(env, key),
    deleteProperty: (_, key) => Reflect.deleteProperty(env, key),
    ownKeys: () => Reflect.ownKeys(env),
    getOwnPropertyDescriptor: (_, key) =>
      hidden(key) ? undefined : Reflect.getOwnPropertyDescriptor(env, key),
  }) as typeof process.env;
}

_hideYamlDebugSwitches();

/**
 * Writes all of `text`: a write may take only part of the bytes (a full
 * pipe), and long output such as --help must not be cut short.
 */
function _writeAll(
  sink: { writeSync(bytes: Uint8Array): number },
  text: string,
): void {
  const bytes = _encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += sink.writeSync(bytes.subarray(written));
  }
}

/** The Deno process, as the program sees it. */
export const denoProcess: ProcessHost = {
  programName: "deno run --allow-net main.ts",
  writeStdout: (text) => _writeAll(Deno.stdout, text),
  writeStderr(text) {
    try {
      _writeAll(Deno.stderr, text);
    } catch {
      // stderr is gone (closed pipe): nothing useful left to do with it.
    }
  },
  readTextFile: (path) => Deno.readTextFile(path),
  openAppendFile(path: string): AppendFile {
    let file: Deno.FsFile | null = Deno.openSync(path, {
      append: true,
      create: true,
      mode: 0o640,
    });
    return {
      write(text) {
        if (file !== null) _writeAll(file, text);
      },
      close() {
        file?.close();
        file = null;
      },
    };
  },
  stats(): ProcessStats {
    const cpu = process.cpuUsage();
    const memory = Deno.memoryUsage();
    return {
      residentBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      startTimeSeconds: performance.timeOrigin / 1000,
      openFds: _ifReadable(
        "/proc/self/fd",
        () => [...Deno.readDirSync("/proc/self/fd")].length,
      ),
      maxFds: _ifReadable(
        "/proc/self/limits",
        () => parseMaxOpenFiles(Deno.readTextFileSync("/proc/self/limits")),
      ),
    };
  },
  onSignal(signal: ProcessSignal, handler: () => void) {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  },
  async readPassword(prompt) {
    const terminal = Deno.stdin.isTerminal();
    if (terminal) {
      // Raw (no echo) before the prompt: keys typed once it shows are safe.
      Deno.stdin.setRaw(true);
      denoProcess.writeStderr(prompt);
    }
    try {
      return await readFirstLine(_stdinChunks(), terminal);
    } finally {
      if (terminal) {
        Deno.stdin.setRaw(false);
        denoProcess.writeStderr("\n");
      }
    }
  },
};

async function* _stdinChunks(): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(1024);
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * Reads only with read permission already granted: asking would prompt on
 * a terminal. Deno lets only `--allow-all` read `/proc/self`, so with
 * `--allow-read` alone this is `null` too.
 */
function _ifReadable<T>(path: string, read: () => T): T | null {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    return null;
  }
  try {
    return read();
  } catch {
    return null; // Not Linux, or no /proc.
  }
}
