/**
 * Reload on SIGHUP: the command line is parsed again (so the config file
 * and the users file are read again) and the result swapped in, or, on any
 * error, one error line is logged and the old configuration stays.
 * Reloads never overlap: a SIGHUP during a reload runs one more after it.
 *
 * @module
 */

import type { CliConfig } from "../config/options.ts";
import type { ConfigState } from "../config/config_state.ts";
import type { LogLevel } from "../observability/logger.ts";
import type { Logger } from "../observability/logger.ts";

/** What a reload needs from the running program. */
export interface ReloadTarget {
  /** Parses the command line again, reading every file anew. */
  load(): Promise<CliConfig>;
  /** Applies new log settings. */
  setLog(level: LogLevel, format: "text" | "json"): void;
  /** Applies new server settings (to the server or every worker). */
  apply(config: CliConfig): Promise<void>;
  /** Where the outcome is logged. */
  logger: Logger;
  /** The generation counter. */
  state: ConfigState;
}

/**
 * Makes the SIGHUP handler.
 *
 * @param target The program's side of the reload.
 * @returns A function that runs one reload after any in progress; its
 * promise never rejects.
 */
export function createReloader(target: ReloadTarget): () => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let queued = false;
  return () => {
    if (queued) return chain;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      await _reloadOnce(target);
    });
    return chain;
  };
}

async function _reloadOnce(target: ReloadTarget): Promise<void> {
  const { logger, state } = target;
  let config: CliConfig;
  try {
    config = await target.load();
    if (config.action !== "serve") throw new Error("Nothing to serve");
    await target.apply(config);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error))
      .split("\n").join("; ");
    state.fail(message);
    logger.log("error", "reload rejected, the old configuration stays", {
      generation: state.generation,
      error: message,
    });
    return;
  }
  target.setLog(config.logLevel, config.logFormat);
  state.bump();
  for (const warning of config.warnings) logger.log("warn", warning);
  logger.log("info", "reloaded", {
    generation: state.generation,
    loadedAt: state.loadedAt.toISOString(),
  });
}
