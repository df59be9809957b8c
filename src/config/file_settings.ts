/**
 * What the config file yields and how its keys are named: the part of
 * `file.ts` the command line needs on every start. `file.ts` itself (with
 * `yaml` and `zod`) is imported only when `--config` is given: loaded at
 * start, those two packages added MBs to the executable's resident memory
 * (measured, see the commit).
 *
 * @module
 */

import type { AccessRule } from "../policy/access_rules.ts";
import type { OptionSpec } from "./options.ts";
import { UsageError } from "./values.ts";

/** Where an option lives in the config file, as a dotted path. */
export function configKey(option: OptionSpec): string | null {
  if (option.flag === "config") return null;
  return option.section === "Limits" ? `limits.${option.flag}` : option.flag;
}

/** The config file, as flag values plus the sections flags cannot hold. */
export interface FileSettings {
  /** Flag name to the value the command line would carry. */
  values: Map<string, string | string[] | boolean>;
  /** Where each flag's value was: `FILE:LINE`. */
  places: Map<string, string>;
  /** The access rules, in order. */
  rules?: AccessRule[];
  /** Group name to usernames. */
  groups?: Record<string, string[]>;
}

/** Every problem of a config file, one line each. */
export class ConfigError extends UsageError {
  /** The problems, each `FILE:LINE: KEY: message, got VALUE`. */
  readonly problems: readonly string[];

  /**
   * Creates the instance.
   *
   * @param problems One line per problem.
   */
  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}
