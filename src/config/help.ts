/**
 * `--help` and README's flag table, both rendered from the option table.
 *
 * @module
 */

import { configKey } from "./file_settings.ts";
import { OPTIONS, type OptionSpec, SECTIONS } from "./options.ts";
import { VERSION } from "./cli.ts";

const _WIDTH = 80;
const _COLUMN = 28;

function _label(option: OptionSpec): string {
  return `--${option.flag}${option.value ? ` ${option.value}` : ""}`;
}

function _wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function _plain(text: string): string {
  return text.replaceAll("`", "");
}

/**
 * The `--help` text.
 *
 * @param programName How the program is started (`socks5-deno`, or
 * `deno run --allow-net main.ts`).
 * @returns The text, ending with a newline.
 */
export function helpText(programName: string): string {
  let out =
    `socks5-deno ${VERSION}: a SOCKS5 proxy server (RFC 1928, RFC 1929)\n\n` +
    `Usage: ${programName} [options]\n` +
    `       ${programName} check --config FILE [options]\n` +
    `       ${programName} explain --config FILE --client IP [--user U]\n` +
    `         [--address IP] connect|bind|udp HOST:PORT\n` +
    `       ${programName} passwd NAME [--scheme scrypt|bcrypt|argon2id]\n` +
    `       ${programName} probe [--json] socks5://[user:pass@]host:port\n`;
  for (const section of SECTIONS) {
    const heading = section === "Timeouts"
      ? "Timeouts (a number with unit ms, s, m or h; a bare number is seconds; 0 = none)"
      : section;
    out += `\n${heading}:\n`;
    for (const option of OPTIONS.filter((o) => o.section === section)) {
      const label = `  ${_label(option)}`;
      const text = `${option.help} Default: ${_plain(option.defaultText)}.`;
      const lines = _wrap(text, _WIDTH - _COLUMN);
      if (label.length >= _COLUMN - 1) {
        out += `${label}\n`;
      } else {
        out += label.padEnd(_COLUMN) + `${lines.shift()}\n`;
      }
      for (const line of lines) out += " ".repeat(_COLUMN) + `${line}\n`;
    }
  }
  out += "\n  --help                    Show this help.\n" +
    "  --version                 Show the version.\n";
  return out;
}

/**
 * README's config-file reference (Markdown): every option's key, its value
 * and its flag, from the option table, then the sections flags cannot hold.
 *
 * @returns The table, ending with a newline.
 */
export function configTable(): string {
  const rows: string[][] = [];
  for (const option of OPTIONS) {
    const key = configKey(option);
    if (key === null) continue;
    const value = option.value === undefined
      ? "true or false"
      : option.multiple
      ? `${option.value}, or a list`
      : option.value;
    rows.push([`\`${key}\``, value, `\`--${option.flag}\``]);
  }
  rows.push(
    ["`groups`", "map: group name to a list of users", "(file only)"],
    ["`rules`", "list of access rules, first match decides", "(file only)"],
  );
  return _markdownTable(["key", "value", "flag"], rows);
}

function _markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i]!.length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |\n`;
  return line(header) +
    line(widths.map((w) => "-".repeat(w))) +
    rows.map(line).join("");
}

/**
 * README's flag table (Markdown), one row per option.
 *
 * @returns The table, ending with a newline.
 */
export function optionsTable(): string {
  const rows = OPTIONS.map((o) => [
    `\`${_label(o)}\``,
    o.help.replaceAll("|", "\\|"),
    o.defaultText,
  ]);
  rows.push(["`--help`, `--version`", "", ""]);
  return _markdownTable(["flag", "meaning", "default"], rows);
}
