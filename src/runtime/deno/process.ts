/**
 * The process on Deno: standard streams, files and signals.
 *
 * @module
 */

import process from "node:process";
import type {
  AppendFile,
  ProcessHost,
  ProcessSignal,
  ProcessStats,
} from "../runtime.ts";
import { parseMaxOpenFiles } from "../proc_limits.ts";

const _encoder = new TextEncoder();

/** The Deno process, as the program sees it. */
export const denoProcess: ProcessHost = {
  programName: "deno run --allow-net main.ts",
  writeStdout(text) {
    Deno.stdout.writeSync(_encoder.encode(text));
  },
  writeStderr(text) {
    try {
      const bytes = _encoder.encode(text);
      let written = 0;
      while (written < bytes.length) {
        written += Deno.stderr.writeSync(bytes.subarray(written));
      }
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
        if (file === null) return;
        const bytes = _encoder.encode(text);
        let written = 0;
        while (written < bytes.length) {
          written += file.writeSync(bytes.subarray(written));
        }
      },
      close() {
        file?.close();
        file = null;
      },
    };
  },
  stats(): ProcessStats {
    const cpu = process.cpuUsage();
    return {
      residentBytes: Deno.memoryUsage().rss,
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
};

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
