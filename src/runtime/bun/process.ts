/**
 * The process on Bun: standard streams, files and signals.
 *
 * @module
 */

/// <reference path="./bun_api.d.ts" />

import { writeSync } from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import { readFirstLine } from "../read_line.ts";
import type { ProcessHost, ProcessSignal } from "../runtime.ts";

/**
 * Whether this is a single executable built by `bun build --compile`: its
 * entry module lives in Bun's embedded file system.
 */
export const isCompiled: boolean = Bun.main.startsWith("/$bunfs/");

function _writeAll(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
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
