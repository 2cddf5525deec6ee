/**
 * Data goes to stdout, messages to stderr. `--json` prints data as one JSON document on stdout and
 * progress as one JSON object per line on stderr, so a script can read stdout whole.
 */

/** Any typed event (a DHT lookup step, an ICON's state...): printed whole as JSON. */
export interface ProgressEvent {
  type: string;
}

export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  /** Data for stdout: JSON with --json, otherwise the human rendering. */
  data(value: unknown, human?: () => string): void;
  /** A line for a person on stderr (suppressed with --json). */
  info(message: string): void;
  warn(message: string): void;
  /** A progress event: drawn for a person, or a JSON line with --json. */
  progress<E extends ProgressEvent>(event: E, human?: string): void;
}

export function createOutput(json: boolean): Output {
  const color = !process.env.NO_COLOR && process.stderr.isTTY === true;
  const err = (s: string) => process.stderr.write(s + "\n");
  return {
    json,
    color,
    data(value, human) {
      if (json || !human) process.stdout.write(JSON.stringify(value, null, json ? 2 : 0) + "\n");
      else {
        const text = human();
        if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
      }
    },
    info(message) {
      if (!json) err(message);
    },
    warn(message) {
      err(json ? JSON.stringify({ type: "warning", message }) : (color ? "\x1b[33mwarning:\x1b[0m " : "warning: ") + message);
    },
    progress(event, human) {
      if (json) err(JSON.stringify(event));
      else if (human !== undefined) err(human);
    },
  };
}

/** Plain-text table with left-aligned columns, for human output. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? "").padEnd(widths[i]!))).join("  ")).join("\n");
}
