// A small declarative flag parser: every flag is declared with its type and range, unknown flags
// and bad values are errors that name the flag, and --help text comes from the same table.

export type FlagSpec =
  | { type: "int"; default?: number; min?: number; max?: number; help: string; placeholder?: string }
  | { type: "number"; default?: number; min?: number; max?: number; exclusiveMin?: boolean; help: string; placeholder?: string }
  | { type: "string"; default?: string; choices?: readonly string[]; help: string; placeholder?: string }
  | { type: "boolean"; help: string };

export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K] extends { type: "boolean" } ? boolean
    : S[K] extends { type: "int" | "number"; default: number } ? number
    : S[K] extends { type: "int" | "number" } ? number | undefined
    : S[K] extends { type: "string"; default: string } ? string
    : string | undefined;
};

export class UsageError extends Error {}

export function parseFlags<S extends Record<string, FlagSpec>>(argv: readonly string[], spec: S): FlagValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) values[name] = s.type === "boolean" ? false : (s as { default?: unknown }).default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (flags start with --; see --help)`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag --${name} (see --help)`);
    if (s.type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith("--"))) throw new UsageError(`--${name} needs a value (${s.placeholder ?? s.type})`);
    values[name] = convert(name, s, raw);
  }
  return values as FlagValues<S>;
}

/** The names of the flags that `argv` sets explicitly (as opposed to defaults). */
export function givenFlags(argv: readonly string[], spec: Record<string, FlagSpec>): Set<string> {
  const given = new Set<string>();
  for (const arg of argv) {
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name in spec) given.add(name);
  }
  return given;
}

function convert(name: string, s: FlagSpec, raw: string): unknown {
  if (s.type === "string") {
    if (s.choices && !s.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${s.choices.join(", ")}, got ${JSON.stringify(raw)}`);
    return raw;
  }
  if (s.type === "boolean") return true;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  if (s.type === "int" && !Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number, got ${raw}`);
  if (s.min !== undefined && (v < s.min || ("exclusiveMin" in s && s.exclusiveMin && v === s.min))) {
    throw new UsageError(`--${name} must be ${"exclusiveMin" in s && s.exclusiveMin ? "greater than" : "at least"} ${s.min}, got ${raw}`);
  }
  if (s.max !== undefined && v > s.max) throw new UsageError(`--${name} must be at most ${s.max}, got ${raw}`);
  return v;
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `--${name}${s.type === "boolean" ? "" : ` ${s.placeholder ?? (s.type === "string" && s.choices ? s.choices.join("|") : s.type.toUpperCase())}`}`;
    const def = s.type !== "boolean" && s.default !== undefined ? ` (default ${s.default})` : "";
    return [left, s.help + def];
  });
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [usage, "", ...rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`)].join("\n");
}
