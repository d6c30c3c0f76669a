/**
 * The runner I/O layer: outputs, job summary, annotations, masking and the
 * error boundary every action's `run()` goes through. This is the only module
 * of `@maestro/core` that imports `@actions/core`.
 */
import * as core from '@actions/core';
import { appendFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeFailure, isConfigError, type ConfigError } from './errors.js';
import { sizeOf, truncateMarkdown } from './markdown.js';

/** GitHub refuses a step summary over 1 MiB (and drops it whole). */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** Set one output; lists and objects are written as JSON. */
export function setOutput(name: string, value: unknown): void {
  core.setOutput(name, typeof value === 'string' ? value : JSON.stringify(value));
}

export function setOutputs(values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) setOutput(name, value);
}

export function mask(secret: string): void {
  if (secret) core.setSecret(secret);
}

/**
 * Append markdown to this step's summary without exceeding the 1 MiB budget
 * (counting what earlier writes in the same step left). Returns whether the
 * text was truncated.
 */
export function writeSummary(markdown: string, limit = STEP_SUMMARY_LIMIT): { written: boolean; truncated: boolean } {
  const file = process.env['GITHUB_STEP_SUMMARY'];
  if (!file) {
    core.info(markdown);
    return { written: false, truncated: false };
  }
  const used = existsSync(file) ? statSync(file).size : 0;
  const budget = Math.max(0, limit - used);
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  const { text: fitted, truncated } = truncateMarkdown(text, budget, 'bytes');
  if (sizeOf(fitted, 'bytes') > 0) appendFileSync(file, fitted, 'utf8');
  if (truncated) core.warning(`Job summary truncated to fit GitHub's ${Math.round(limit / 1024)} KiB limit.`);
  return { written: true, truncated };
}

export interface Annotation {
  message: string;
  title?: string;
  /** Path relative to the workspace (absolute paths are made relative). */
  file?: string;
  line?: number;
  endLine?: number;
  column?: number;
  endColumn?: number;
}

function annotationProps(a: Annotation): core.AnnotationProperties {
  const props: core.AnnotationProperties = {};
  if (a.title) props.title = a.title;
  if (a.file) {
    const ws = process.env['GITHUB_WORKSPACE'];
    props.file = ws && path.isAbsolute(a.file) ? path.relative(ws, a.file) : a.file;
  }
  if (a.line !== undefined) props.startLine = a.line;
  if (a.endLine !== undefined) props.endLine = a.endLine;
  // The runner drops columns unless they sit on a single line.
  if (a.column !== undefined && a.line !== undefined && (a.endLine === undefined || a.endLine === a.line)) {
    props.startColumn = a.column;
    if (a.endColumn !== undefined) props.endColumn = a.endColumn;
  }
  return props;
}

export function annotate(level: 'error' | 'warning' | 'notice', a: Annotation): void {
  const props = annotationProps(a);
  if (level === 'error') core.error(a.message, props);
  else if (level === 'warning') core.warning(a.message, props);
  else core.notice(a.message, props);
}

/**
 * Text for the log that cannot issue workflow commands. The runner reads
 * stdout line by line with .NET's ReadLine, which ends a line at CR as well
 * as LF, and runs any line that starts (after trimming) with `::`. A path or
 * package name holding a raw CR followed by `::add-mask::` or `::error::`
 * would otherwise be executed. Every line break becomes LF, and a line that
 * would parse as a command gets a zero-width space in front (the runner's
 * Trim() keeps it, so the line is shown, not run). The legacy `##[command]`
 * form, which the runner finds anywhere in a line, is broken the same way.
 */
export function neutralizeCommands(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      // The runner's legacy parser (ActionCommand.TryParse) runs `##[command]` found anywhere in a line.
      .replace(/##\[/g, '##\u200b[')
      .split('\n')
      .map((line) => (/^[\s\u0085\u180e]*::/.test(line) ? `\u200b${line}` : line))
      .join('\n')
  );
}

export const log = {
  /** Plain text to the log; untrusted strings in it cannot run workflow commands. */
  info: (m: string) => core.info(neutralizeCommands(m)),
  debug: (m: string) => core.debug(m),
  warning: (m: string) => core.warning(m),
  group: <T>(name: string, fn: () => Promise<T>) => core.group(name, fn),
};

export const state = {
  save: (name: string, value: unknown) => core.saveState(name, typeof value === 'string' ? value : JSON.stringify(value)),
  get: (name: string) => core.getState(name),
};

/**
 * The error boundary of an action: runs `fn`, and on failure prints one
 * human line (ConfigError → its file/line/fix; anything else → prefixed with
 * the action name, stack only in debug) and sets a failing exit code.
 */
export async function runAction(actionName: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const report = describeFailure(actionName, err);
    if (report.detail) core.debug(report.detail);
    // A user error in a file is annotated on that file and line, so it shows in the PR diff.
    const file = isConfigError(err) ? (err as ConfigError).file : undefined;
    if (file && !/\s/.test(file)) {
      const c = err as ConfigError;
      core.error(report.message, { file, ...(c.line ? { startLine: c.line } : {}), ...(c.column ? { startColumn: c.column } : {}) });
      process.exitCode = core.ExitCode.Failure;
    } else {
      core.setFailed(report.message);
    }
  }
}
