/**
 * XML reports (JUnit, Cobertura) read as untrusted input: validated first, so a
 * truncated or malformed file is a ConfigError at its line and column, then parsed
 * with attributes as `@name` properties.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ConfigError } from './errors.js';

export type XmlNode = Record<string, unknown>;

/** What to do about a JUnit report that is not well-formed XML. */
export const JUNIT_FIX = 'check that the test run finished writing the report (a crashed runner leaves it truncated)';

/** `what` names the format in the message ("invalid JUnit XML: …"); `fix` says what to do about it. */
export function parseXml(text: string, file: string, what: string, fix: string): XmlNode {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new ConfigError(`invalid ${what} XML: ${valid.err.msg}`, { file, line: valid.err.line, column: valid.err.col, fix });
  try {
    return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseAttributeValue: false, allowBooleanAttributes: true }).parse(text) as XmlNode;
  } catch (e) {
    // External entities (XXE) are refused by the parser; entity expansion is never done. Say so in one line.
    const msg = (e as Error).message ?? String(e);
    const why = /entit/i.test(msg) ? 'it declares an external entity (<!ENTITY … SYSTEM …>), which is never read' : `the parser refused it (${msg.split('\n')[0]!.slice(0, 120)})`;
    throw new ConfigError(`invalid ${what} XML: ${why}`, { file, fix: `${fix}; a test report has no reason to declare entities` });
  }
}

/** A child that may occur once, many times or not at all (an empty element parses as ''), as a list. */
export function xmlList(v: unknown): XmlNode[] {
  return v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? (v as XmlNode[]) : [v as XmlNode];
}
