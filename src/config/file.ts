/**
 * The config file (`--config FILE`): YAML, read with the `yaml` package
 * (which keeps every node's position, so errors name the line) and checked
 * with a `zod` schema derived from the option table. Every option has a
 * key: its flag name, under `limits:` for the options of the Limits
 * section. Beside them the file holds `rules:` (ordered access rules) and
 * `groups:` (user groups for the rules).
 *
 * @module
 */

import { isMap, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { type AccessRule, AccessRules } from "../policy/access_rules.ts";
import { ConfigError, configKey, type FileSettings } from "./file_settings.ts";
import { OPTIONS, type OptionSpec } from "./options.ts";

export { ConfigError, configKey, type FileSettings };

const _scalar = z.union([z.string(), z.number()], {
  error: "expected a string or a number",
});
const _list = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item)], {
    error: "expected a value or a list of values",
  }).optional();

function _optionSchema(option: OptionSpec): z.ZodType {
  if (option.value === undefined) return z.boolean().optional();
  return option.multiple ? _list(_scalar) : _scalar.optional();
}

const _RULE = z.object({
  name: z.string().min(1).optional(),
  action: z.enum(["allow", "deny"]),
  client: _list(z.string()),
  user: _list(z.string()),
  group: _list(z.string()),
  command: _list(z.enum(["connect", "bind", "udp"])),
  to: _list(z.string()),
  host: _list(z.string()),
  domain: _list(z.string()),
  glob: _list(z.string()),
  port: _list(z.union([z.string(), z.number().int()])),
  via: _list(z.string()),
  source: z.string().optional(),
}).strict();

function _schema(): z.ZodType {
  const top: Record<string, z.ZodType> = {};
  const limits: Record<string, z.ZodType> = {};
  for (const option of OPTIONS) {
    const key = configKey(option);
    if (key === null) continue;
    if (key.startsWith("limits.")) limits[option.flag] = _optionSchema(option);
    else top[key] = _optionSchema(option);
  }
  return z.object({
    ...top,
    limits: z.object(limits).strict().optional(),
    rules: z.array(_RULE).optional(),
    groups: z.record(z.string(), z.array(z.string())).optional(),
  }).strict();
}

const _SCHEMA = _schema();

/**
 * Reads a config file's text.
 *
 * @param text The YAML.
 * @param path The file's name, for messages.
 * @returns The settings.
 * @throws {ConfigError} Listing every problem with its line and value.
 */
export function parseConfigFile(text: string, path: string): FileSettings {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) =>
    `${path}:${offset === undefined ? 1 : lineCounter.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) =>
        `${at(e.pos[0])}: not valid YAML: ${e.message.split("\n")[0]}`
      ),
    );
  }
  const data = doc.toJS() ?? {};
  const parsed = _SCHEMA.safeParse(data);
  const place = (keys: readonly PropertyKey[]) =>
    at(_nodeOffset(doc, keys as (string | number)[]));
  if (!parsed.success) {
    throw new ConfigError(_byLine(parsed.error.issues.flatMap((issue) => {
      const keys = issue.path as (string | number)[];
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((unknown) =>
          `${place([...keys, unknown])}: ${
            _dotted([...keys, unknown])
          }: unknown key`
        );
      }
      const value = _valueAt(data, keys);
      return [
        `${place(keys)}: ${_dotted(keys)}: ${
          issue.message.replace(/^Invalid input: /, "")
        }${value === undefined ? "" : `, got ${_quote(value)}`}`,
      ];
    })));
  }
  const config = parsed.data as Record<string, unknown> & {
    limits?: Record<string, unknown>;
    rules?: Array<Record<string, unknown>>;
    groups?: Record<string, string[]>;
  };
  const settings: FileSettings = { values: new Map(), places: new Map() };
  for (const option of OPTIONS) {
    const key = configKey(option);
    if (key === null) continue;
    const raw = key.startsWith("limits.")
      ? config.limits?.[option.flag]
      : config[key];
    if (raw === undefined) continue;
    settings.values.set(
      option.flag,
      typeof raw === "boolean"
        ? raw
        : Array.isArray(raw)
        ? raw.map(String)
        : option.multiple
        ? [String(raw)]
        : String(raw),
    );
    settings.places.set(option.flag, place(key.split(".")));
  }
  if (config.groups) settings.groups = config.groups;
  if (config.rules) {
    settings.rules = config.rules.map(_normalRule);
    const problems: string[] = [];
    settings.rules.forEach((rule, i) => {
      try {
        new AccessRules([rule], settings.groups ?? {});
      } catch (error) {
        problems.push(
          `${place(["rules", i])}: rules[${i}]: ${(error as Error).message}`,
        );
      }
    });
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return settings;
}

/** Problems in the order of their lines (the file's own order). */
function _byLine(problems: string[]): string[] {
  const line = (p: string) => Number(/^.*?:(\d+): /.exec(p)?.[1] ?? 0);
  return problems.sort((a, b) => line(a) - line(b));
}

/** Rule fields that take one value; the others take a value or a list. */
const _SINGLE_VALUED = new Set(["name", "action", "source"]);

/** Every list field as an array. */
function _normalRule(rule: Record<string, unknown>): AccessRule {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rule)) {
    if (value === undefined) continue;
    out[key] = _SINGLE_VALUED.has(key) || Array.isArray(value)
      ? value
      : [value];
  }
  return out as unknown as AccessRule;
}

/** The offset of the node at `keys`, or of its nearest existing parent. */
function _nodeOffset(
  doc: ReturnType<typeof parseDocument>,
  keys: (string | number)[],
): number | undefined {
  for (let n = keys.length; n >= 0; n--) {
    const path = keys.slice(0, n);
    if (n > 0) {
      // A key's own position, for an unknown or misspelt key.
      const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc
        .contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) =>
          isPair(p) && isScalar(p.key) && p.key.value === path.at(-1)
        );
        const node = pair?.value ?? pair?.key;
        const range = (node as { range?: [number, number, number] } | null)
          ?.range;
        if (range) return range[0];
      }
    }
    const node = n === 0 ? doc.contents : doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | null)
      ?.range;
    if (range) return range[0];
  }
  return undefined;
}

function _valueAt(data: unknown, keys: (string | number)[]): unknown {
  let value = data;
  for (const key of keys) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function _dotted(keys: readonly (string | number)[]): string {
  return keys.map((k, i) =>
    typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`
  ).join("") || "(top level)";
}

function _quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
