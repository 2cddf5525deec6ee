/**
 * Structured logs on stderr: human lines by default, JSON lines with `--log-format json`.
 * Components get a child logger that stamps its name on every record.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "human" | "json";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(component: string): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr unless a test captures them. */
  write?: (line: string) => void;
  component?: string;
}

const useColor = () => !process.env.NO_COLOR && process.stderr.isTTY === true;
const COLORS: Record<LogLevel, string> = { debug: "\x1b[90m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? "info";
  const format = opts.format ?? "human";
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const color = format === "human" && opts.write === undefined && useColor();

  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < RANK[level]) return;
    const time = new Date().toISOString();
    if (format === "json") {
      const rec: LogFields = { time, level: lvl, msg };
      if (opts.component) rec.component = opts.component;
      for (const [k, v] of Object.entries(fields ?? {})) rec[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify(rec));
      return;
    }
    const tag = color ? `${COLORS[lvl]}${lvl.toUpperCase().padEnd(5)}\x1b[0m` : lvl.toUpperCase().padEnd(5);
    const comp = opts.component ? `[${opts.component}] ` : "";
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(" ");
    write(`${time.slice(11, 23)} ${tag} ${comp}${msg}${extra ? " " + extra : ""}`);
  };

  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (component) =>
      createLogger({ ...opts, level, format, component: opts.component ? `${opts.component}.${component}` : component }),
    enabled: (lvl) => RANK[lvl] >= RANK[level],
  };
}

/** A logger that drops everything: for tests and for library use without a node. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
