/**
 * Reload on SIGHUP: the command line is parsed again (so the config file
 * and the users file are read again) and the result swapped in, or, on any
 * error, one error line is logged and the old configuration stays.
 * Reloads never overlap: a SIGHUP during a reload runs one more after it.
 *
 * @module
 */

import type { CliConfig } from "../config/options.ts";
import {
  type ConfigStatus,
  markReloaded,
} from "../observability/config_status.ts";
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
  /** The generation counter the status page and metrics show. */
  status: ConfigStatus;
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
  const { logger, status } = target;
  let config: CliConfig;
  try {
    config = await target.load();
    if (config.action !== "serve") throw new Error("Nothing to serve");
    await target.apply(config);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error))
      .split("\n").join("; ");
    logger.log("error", "reload rejected, the old configuration stays", {
      generation: status.generation,
      error: message,
    });
    return;
  }
  target.setLog(config.logLevel, config.logFormat);
  markReloaded(status);
  for (const warning of config.warnings) logger.log("warn", warning);
  logger.log("info", "reloaded", {
    generation: status.generation,
    loadedAt: new Date(status.loadedAt).toISOString(),
  });
}
