/**
 * Parsers for what an action tells the runner: file commands
 * (`GITHUB_OUTPUT` etc., `NAME=value` or heredoc) and stdout workflow
 * commands (`::name k=v::data`), with the runner's escaping rules.
 */

export class FileCommandError extends Error {}

/** Parse a file-command file as the runner does; throws FileCommandError on a malformed file. */
export function parseFileCommand(content: string, kind: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!content) return out;
  const lines = content.split('\n');
  // A final newline leaves one empty string at the end.
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const eq = line.indexOf('=');
    const hd = line.indexOf('<<');
    if (hd >= 0 && (eq < 0 || hd < eq)) {
      const name = line.slice(0, hd);
      const delim = line.slice(hd + 2);
      if (!name) throw new FileCommandError(`Unable to process file command '${kind}' successfully: empty name`);
      if (!delim) throw new FileCommandError(`Unable to process file command '${kind}' successfully: empty delimiter`);
      const value: string[] = [];
      let closed = false;
      for (i = i + 1; i < lines.length; i++) {
        const l = lines[i]!.replace(/\r$/, '');
        if (l === delim) {
          closed = true;
          break;
        }
        value.push(l);
      }
      if (!closed) throw new FileCommandError(`Unable to process file command '${kind}' successfully: matching delimiter not found '${delim}'`);
      out.push([name, value.join('\n')]);
    } else if (eq > 0) {
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    } else {
      throw new FileCommandError(`Unable to process file command '${kind}' successfully: invalid format '${line.slice(0, 40)}'`);
    }
  }
  return out;
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

const unescapeData = (s: string) => s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
const unescapeProp = (s: string) => s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%25/g, '%');

/** `k=v<sep>k=v` as a command's properties (a pair without `=` is ignored, as the runner does). */
function parseProperties(text: string, sep: string, unescape: (v: string) => string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of text.split(sep)) {
    const i = pair.indexOf('=');
    if (i > 0) properties[pair.slice(0, i).trim()] = unescape(pair.slice(i + 1));
  }
  return properties;
}

/** Parse one log line as a `::command props::data` workflow command, or null. */
export function parseWorkflowCommand(line: string): WorkflowCommand | null {
  // .NET's String.Trim(): Unicode white space, which includes NEL (U+0085) that JavaScript's trim keeps.
  const t = line.replace(/^[\s\u0085]+/, '');
  if (!t.startsWith('::')) return null;
  const end = t.indexOf('::', 2);
  if (end < 0) return null;
  const head = t.slice(2, end);
  const data = t.slice(end + 2);
  const sp = head.indexOf(' ');
  const command = sp < 0 ? head : head.slice(0, sp);
  if (!/^[A-Za-z][\w-]*$/.test(command)) return null;
  const properties = sp >= 0 ? parseProperties(head.slice(sp + 1), ',', unescapeProp) : {};
  return { command, properties, data: unescapeData(data) };
}

/**
 * The runner's legacy form `##[command key=value;key=value]data`, which its
 * parser (ActionCommand.TryParse) finds anywhere in a line, not only at the start.
 */
export function parseLegacyCommand(line: string): WorkflowCommand | null {
  const at = line.indexOf('##[');
  if (at < 0) return null;
  const end = line.indexOf(']', at + 3);
  if (end < 0) return null;
  const head = line.slice(at + 3, end);
  const sp = head.indexOf(' ');
  const command = sp < 0 ? head : head.slice(0, sp);
  if (!/^[A-Za-z][\w-]*$/.test(command)) return null;
  const properties = sp >= 0 ? parseProperties(head.slice(sp + 1), ';', (v) => v) : {};
  return { command, properties, data: line.slice(end + 1) };
}
