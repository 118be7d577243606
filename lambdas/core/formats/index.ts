/**
 * The registry of log formats, and format detection: by S3 key first (the key patterns AWS
 * writes), then by content (the object's first non-empty line).
 */
import type { FormatName, LogFormat } from '../types';
import { albFormat } from './alb';
import { cloudfrontFormat } from './cloudfront';
import { cloudtrailFormat } from './cloudtrail';
import { elbFormat } from './elb';
import { jsonLinesFormat } from './json-lines';
import { nlbFormat } from './nlb';
import { regexFormat } from './regex';
import { s3AccessFormat } from './s3access';
import { syslogFormat } from './syslog';
import { vpcFlowFormat } from './vpcflow';
import { wafFormat } from './waf';

/** Every format, in detection order: the most specific key patterns and contents first. */
export const LOG_FORMATS: readonly LogFormat[] = [
  cloudtrailFormat,
  wafFormat,
  vpcFlowFormat,
  albFormat,
  nlbFormat,
  elbFormat,
  cloudfrontFormat,
  s3AccessFormat,
  syslogFormat,
  jsonLinesFormat,
  regexFormat,
];

const FORMATS_BY_NAME = new Map<FormatName, LogFormat>(LOG_FORMATS.map((format) => [format.name, format]));

/** The format called `name`. */
export function formatByName(name: FormatName): LogFormat {
  const format = FORMATS_BY_NAME.get(name);
  if (format === undefined) throw new Error(`unknown log format: ${name}`);
  return format;
}

/** The format whose AWS key pattern matches `key`, if any. */
export function detectFormatByKey(key: string): LogFormat | undefined {
  return LOG_FORMATS.find((format) => format.matchesKey(key));
}

/** The format whose content signature matches the object's first non-empty line, if any. */
export function detectFormatByContent(firstLine: string): LogFormat | undefined {
  return LOG_FORMATS.find((format) => format.matchesContent(firstLine));
}
