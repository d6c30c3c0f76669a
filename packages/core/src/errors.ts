/**
 * Error taxonomy shared by every action and the CLI.
 *
 * A `ConfigError` is the user's to fix (bad input, bad policy file, missing
 * history); it names the file, line and the fix. Anything else is an internal
 * error and is reported prefixed with the action name. Pure: no `@actions/*`.
 */

export interface ConfigErrorDetails {
  /** File the problem is in, relative to the workspace when possible (e.g. `action input`, `policy/rules.yaml`). */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  column?: number;
  /** What the user should do. */
  fix?: string;
  cause?: unknown;
}

export class ConfigError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly fix: string | undefined;

  constructor(message: string, details: ConfigErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfigError';
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.fix = details.fix;
  }

  /** `file:line:col: message Fix: …` — one line a human can act on. */
  format(): string {
    let where = '';
    if (this.file) {
      where = this.file;
      if (this.line !== undefined) where += `:${this.line}`;
      if (this.line !== undefined && this.column !== undefined) where += `:${this.column}`;
      where += ': ';
    }
    const fix = this.fix ? ` Fix: ${this.fix}` : '';
    return `${where}${this.message}${fix}`;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError || (err instanceof Error && err.name === 'ConfigError');
}

export interface FailureReport {
  kind: 'user' | 'internal';
  /** The single line shown to the user (what `setFailed` prints). */
  message: string;
  /** Stack for debug logs, internal errors only. */
  detail?: string;
}

/** Turn any thrown value into the message we show: never a bare stack trace. */
export function describeFailure(actionName: string, err: unknown): FailureReport {
  if (isConfigError(err)) {
    return { kind: 'user', message: (err as ConfigError).format() };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const report: FailureReport = { kind: 'internal', message: `${actionName}: internal error: ${e.message}` };
  if (e.stack) report.detail = e.stack;
  return report;
}
