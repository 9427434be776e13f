// `--name value` and `--flag` after the scenario name.

export function parseArgs(argv: string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) continue;
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) options.set(name, inline);
    else if (next !== undefined && !next.startsWith("--")) {
      options.set(name, next);
      i += 1;
    } else options.set(name, "true");
  }
  return options;
}

export function numberOption(options: Map<string, string>, name: string, fallback: number): number {
  const value = options.get(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, not "${value}"`);
  return parsed;
}

export function listOption(options: Map<string, string>, name: string, fallback: number[]): number[] {
  const value = options.get(name);
  return value === undefined ? fallback : value.split(",").map(Number).filter(Number.isFinite);
}
