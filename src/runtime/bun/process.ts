/**
 * The process on Bun: standard streams, files and signals.
 *
 * @module
 */

/// <reference path="./bun_api.d.ts" />

import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import { readFirstLine } from "../read_line.ts";
import type {
  AppendFile,
  ProcessHost,
  ProcessSignal,
  ProcessStats,
} from "../runtime.ts";
import { parseMaxOpenFiles } from "../proc_limits.ts";

/**
 * Whether this is a single executable built by `bun build --compile`: its
 * entry module lives in Bun's embedded file system.
 */
export const isCompiled: boolean = Bun.main.startsWith("/$bunfs/");

const _encoder = new TextEncoder();

function _writeAll(fd: number, text: string): void {
  const bytes = _encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written);
  }
}

/** The Bun process, as the program sees it. */
export const bunProcess: ProcessHost = {
  programName: isCompiled
    ? basename(process.execPath)
    : `bun ${basename(Bun.main)}`,
  writeStdout: (text) => _writeAll(1, text),
  writeStderr(text) {
    try {
      _writeAll(2, text);
    } catch {
      // stderr is gone (closed pipe): nothing useful left to do with it.
    }
  },
  readTextFile: (path) => Bun.file(path).text(),
  openAppendFile(path: string): AppendFile {
    let fd: number | null = openSync(path, "a", 0o640);
    return {
      write(text) {
        if (fd !== null) _writeAll(fd, text);
      },
      close() {
        if (fd !== null) closeSync(fd);
        fd = null;
      },
    };
  },
  stats(): ProcessStats {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return {
      residentBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      startTimeSeconds: performance.timeOrigin / 1000,
      openFds: _tryRead(() => readdirSync("/proc/self/fd").length),
      maxFds: _tryRead(() =>
        parseMaxOpenFiles(readFileSync("/proc/self/limits", "utf8"))
      ),
    };
  },
  onSignal(signal: ProcessSignal, handler: () => void) {
    process.on(signal, handler);
    return () => {
      process.off(signal, handler);
    };
  },
  async readPassword(prompt) {
    const stdin = process.stdin;
    const terminal = stdin.isTTY === true;
    if (terminal) {
      // Raw (no echo) before the prompt: keys typed once it shows are safe.
      stdin.setRawMode(true);
      bunProcess.writeStderr(prompt);
    }
    try {
      return await readFirstLine(
        stdin as unknown as AsyncIterable<Uint8Array>,
        terminal,
      );
    } finally {
      if (terminal) {
        stdin.setRawMode(false);
        bunProcess.writeStderr("\n");
      }
      stdin.pause();
    }
  },
};

function _tryRead<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null; // Not Linux, or no /proc.
  }
}
