/**
 * Batching log lines so a busy server pays one write per interval.
 *
 * @module
 */

/** A line sink that batches. */
export interface BatchedWriter {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes everything queued now. */
  flush(): void;
}

/**
 * Collects lines and hands them to `sink` as one text, at most `intervalMs`
 * after the first queued line, or at once when 64 KiB have piled up.
 *
 * @example
 * ```ts
 * import { createBatchedWriter } from "./batched_writer.ts";
 * const out = createBatchedWriter((text) => console.log(text), 50);
 * out.write("hello");
 * out.flush();
 * ```
 *
 * @param sink Receives newline-terminated lines, several at a time.
 * @param intervalMs The longest a line waits.
 * @returns The writer.
 */
export function createBatchedWriter(
  sink: (text: string) => void,
  intervalMs: number,
): BatchedWriter {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    sink(text);
  };
  return {
    write(line) {
      pending += line + "\n";
      if (pending.length > 64 * 1024) flush();
      else timer ??= setTimeout(flush, intervalMs);
    },
    flush,
  };
}
