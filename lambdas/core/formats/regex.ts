/**
 * Custom lines read with a regular expression (`options.pattern`, JavaScript syntax, unanchored:
 * add `^` and `$` to match whole lines). Each named group that takes part in the match becomes a
 * string field; a group that does not take part is left out. Values stay strings, even numeric
 * ones: a group that is usually `200` but sometimes `-` keeps one type, and OpenSearch coerces
 * numeric strings into fields the index template maps as numbers.
 *
 * The event time is the group named by `options.timestampField`, else the group `timestamp`, else
 * `time`, read with `options.timestampFormat` (see {@link compileTimestampFormat}) or, without it,
 * as epoch or ISO-8601 text (see {@link timeFieldReader}). A line whose time group does not read as a time is an error, as is a
 * line the pattern does not match.
 *
 * Catastrophic backtracking: patterns are user configuration, and a pattern such as `(a+)+$` can
 * take exponential time on a line that almost matches. The core bounds the line length, and V8 is
 * told to switch a regular expression to its linear-time engine after excessive backtracking
 * (`--enable-experimental-regexp-engine-on-excessive-backtracks`), which bounds the time of every
 * pattern without backreferences or lookaround. A pattern with those is not protected beyond the
 * line length: prefer patterns without nested quantifiers.
 */
import { setFlagsFromString } from 'node:v8';
import { JsonFields, unreservedFieldName } from '../json';
import type { LogFormat, ParserContext, RecordParser, RecordResult } from '../types';
import { timeFieldReader } from './json-lines';

let linearFallbackEnabled = false;

function enableLinearRegexFallback(): void {
  if (linearFallbackEnabled) return;
  // The flag changes no result, only how a pathological match is run; it must be set before the
  // pattern is compiled.
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  linearFallbackEnabled = true;
}

/** The pattern's named groups, in order. */
function namedGroupsOf(pattern: string): string[] {
  // With an empty alternative the wrapper always matches, and `groups` lists every named group.
  return Object.keys(new RegExp(`(?:${pattern})|`).exec('')?.groups ?? {});
}

function compilePattern(pattern: string | undefined): { readonly regex: RegExp; readonly groups: string[] } {
  if (pattern === undefined || pattern === '')
    throw new Error('the regex format needs options.pattern, a regular expression with named groups');
  enableLinearRegexFallback();
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error: unknown) {
    throw new Error(`regex pattern is invalid: ${error instanceof Error ? error.message : String(error)}`);
  }
  const groups = namedGroupsOf(pattern);
  if (groups.length === 0)
    throw new Error(
      'regex pattern has no named group: name the fields, e.g. (?<client>\\S+) (?<status>\\d{3})',
    );
  return { regex, groups };
}

function createRegexParser(context: ParserContext): RecordParser {
  const { options } = context;
  const { regex, groups } = compilePattern(options.pattern);
  const timeGroup = options.timestampField ?? ['timestamp', 'time'].find((name) => groups.includes(name));
  if (timeGroup !== undefined && !groups.includes(timeGroup))
    throw new Error(`regex pattern has no group named "${timeGroup}" (options.timestampField)`);
  const readTime = timeFieldReader(options.timestampFormat, true, context.object.lastModified);
  const fieldNames = groups.map((name) =>
    unreservedFieldName(name, (candidate) => groups.includes(candidate)),
  );
  return {
    parse(record: string): RecordResult {
      const values = regex.exec(record)?.groups;
      if (values === undefined) return { kind: 'error', reason: 'line does not match the pattern' };
      const fields = new JsonFields();
      groups.forEach((group, index) => {
        const value = values[group];
        if (value !== undefined) fields.string(fieldNames[index] ?? group, value);
      });
      const timeText = timeGroup === undefined ? undefined : values[timeGroup];
      if (timeText === undefined) return { kind: 'event', fields: fields.toString() };
      const timestamp = readTime(timeGroup ?? '', timeText);
      if (timestamp instanceof Error) return { kind: 'error', reason: timestamp.message };
      return { kind: 'event', ...(timestamp === undefined ? {} : { timestamp }), fields: fields.toString() };
    },
  };
}

/** Custom text lines, read with a configured regular expression with named groups. */
export const regexFormat: LogFormat = {
  name: 'regex',
  framing: 'lines',
  // Only configuration chooses this format: without a pattern nothing can be recognised.
  matchesKey: () => false,
  matchesContent: () => false,
  createParser: createRegexParser,
};
