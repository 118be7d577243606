/**
 * VPC Flow Logs, text format: space-separated fields, `-` where a field does not apply. Field
 * names follow the AWS field names with `-` turned into `_` (`log-status` → `log_status`); the
 * numeric fields are JSON numbers, the others strings. `@timestamp` is the record's `start`.
 *
 * @see https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
 * @see https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html
 */
import { JsonFields, memberPrefix, quoteJson, unreservedFieldName } from '../json';
import { isoFromEpochSeconds } from '../time';
import type { LogFormat, ParserContext, RecordParser, RecordResult } from '../types';

/**
 * Every field AWS documents, with `-` turned into `_`, and whether AWS types it as an integer
 * (INT_32/INT_64 in the Parquet format; all others are text). The order matters for the first 29:
 * the default format's 14 fields, then the other version 3-5 fields in the order AWS
 * integrations (Elastic's among them) assume for a 29-field "all fields" line without a header.
 */
const AWS_FIELDS: ReadonlyArray<readonly [name: string, integer: boolean]> = [
  ['version', true],
  ['account_id', false],
  ['interface_id', false],
  ['srcaddr', false],
  ['dstaddr', false],
  ['srcport', true],
  ['dstport', true],
  ['protocol', true],
  ['packets', true],
  ['bytes', true],
  ['start', true],
  ['end', true],
  ['action', false],
  ['log_status', false],
  ['vpc_id', false],
  ['subnet_id', false],
  ['instance_id', false],
  ['tcp_flags', true],
  ['type', false],
  ['pkt_srcaddr', false],
  ['pkt_dstaddr', false],
  ['region', false],
  ['az_id', false],
  ['sublocation_type', false],
  ['sublocation_id', false],
  ['pkt_src_aws_service', false],
  ['pkt_dst_aws_service', false],
  ['flow_direction', false],
  ['traffic_path', true],
  ['ecs_cluster_arn', false],
  ['ecs_cluster_name', false],
  ['ecs_container_instance_arn', false],
  ['ecs_container_instance_id', false],
  ['ecs_container_id', false],
  ['ecs_second_container_id', false],
  ['ecs_service_name', false],
  ['ecs_task_definition_arn', false],
  ['ecs_task_arn', false],
  ['ecs_task_id', false],
  ['reject_reason', false],
  ['resource_id', false],
  ['encryption_status', true],
  // Transit Gateway flow logs share the format and add these counters.
  ['packets_lost_no_route', true],
  ['packets_lost_blackhole', true],
  ['packets_lost_mtu_exceeded', true],
  ['packets_lost_ttl_expired', true],
];

const KNOWN_FIELDS = new Set(AWS_FIELDS.map(([name]) => name));
const NUMERIC_FIELDS = new Set(AWS_FIELDS.filter(([, integer]) => integer).map(([name]) => name));
/** The default format: the version 2 fields, in this order. */
const DEFAULT_FIELDS = [...KNOWN_FIELDS].slice(0, 14);
/** A 29-field line without a header: the default fields then the other version 3-5 fields. */
const DEFAULT_AND_V3_TO_V5_FIELDS = [...KNOWN_FIELDS].slice(0, 29);

const FIELD_NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
// Digits a JSON number can take as written: no sign, no leading zero, within a long.
const PLAIN_INTEGER = /^(?:0|[1-9]\d{0,17})$/;
const INTEGER = /^\d{1,18}$/;
const DEFAULT_RECORD_START =
  /^\d+ \S+ \S+ \S+ \S+ \S+ \S+ \S+ \S+ \S+ \d+ \d+ (?:ACCEPT|REJECT|-) (?:OK|NODATA|SKIPDATA)(?: |$)/;

/** The fields of one layout, with what the hot loop needs precomputed. */
interface FieldLayout {
  /** Document field names (reserved names renamed), one per column. */
  readonly names: readonly string[];
  /** The names as member prefixes, quoted once per layout rather than once per record. */
  readonly prefixes: readonly string[];
  readonly numeric: readonly boolean[];
  /** Column of `start`, or -1. */
  readonly startColumn: number;
}

function layoutOf(fieldNames: readonly string[]): FieldLayout | Error {
  const seen = new Set<string>();
  for (const name of fieldNames) {
    if (seen.has(name)) return new Error(`field "${name}" is listed twice`);
    seen.add(name);
  }
  const names = fieldNames.map((name) => unreservedFieldName(name, (candidate) => seen.has(candidate)));
  return {
    names,
    prefixes: names.map(memberPrefix),
    numeric: fieldNames.map((name) => NUMERIC_FIELDS.has(name)),
    startColumn: fieldNames.indexOf('start'),
  };
}

const DEFAULT_LAYOUT = layoutOf(DEFAULT_FIELDS) as FieldLayout;
const DEFAULT_AND_V3_TO_V5_LAYOUT = layoutOf(DEFAULT_AND_V3_TO_V5_FIELDS) as FieldLayout;

/** An AWS field name as a document field name: `log-status` or `${log-status}` → `log_status`. */
function documentFieldName(awsName: string): string {
  return awsName.replace(/^\$\{(.*)\}$/, '$1').replaceAll('-', '_');
}

/**
 * The field names of a header line (`version account-id interface-id ...`): every word is a field
 * name and at least one is a field AWS documents, so a new AWS field still works, while data
 * (addresses, numbers, `-`, upper-case actions) never passes.
 */
function headerFieldNames(line: string): string[] | undefined {
  const first = line.charCodeAt(0);
  if (first < 0x61 || first > 0x7a) return undefined;
  const words = line.trim().split(/\s+/);
  if (!words.every((word) => FIELD_NAME.test(word))) return undefined;
  const names = words.map(documentFieldName);
  return names.some((name) => KNOWN_FIELDS.has(name)) ? names : undefined;
}

/** Splits a record on single spaces, as AWS writes it, or on any run of whitespace otherwise. */
function columnsOf(record: string, expected: number): string[] {
  const columns = record.split(' ');
  return columns.length === expected ? columns : record.trim().split(/\s+/);
}

function parseColumns(layout: FieldLayout, columns: readonly string[]): RecordResult {
  const fields = new JsonFields();
  let timestamp: string | undefined;
  for (let column = 0; column < columns.length; column += 1) {
    const value = columns[column] ?? '-';
    if (value === '-') continue;
    const prefix = layout.prefixes[column] ?? '';
    if (layout.numeric[column] === true) {
      if (PLAIN_INTEGER.test(value)) fields.rawAfterPrefix(prefix, value);
      else if (INTEGER.test(value)) fields.rawAfterPrefix(prefix, String(Number(value)));
      else
        return {
          kind: 'error',
          reason: `${layout.names[column]} is not a number: ${quoteJson(value.slice(0, 64))}`,
        };
      if (column === layout.startColumn) timestamp = isoFromEpochSeconds(Number(value));
    } else {
      fields.rawAfterPrefix(prefix, quoteJson(value));
    }
  }
  if (fields.isEmpty) return { kind: 'error', reason: 'record has no field other than "-"' };
  return { kind: 'event', ...(timestamp === undefined ? {} : { timestamp }), fields: fields.toString() };
}

function createVpcFlowParser(context: ParserContext): RecordParser {
  let configured: FieldLayout | undefined;
  if (context.options.fieldList !== undefined) {
    const layout = layoutOf(context.options.fieldList.trim().split(/\s+/).map(documentFieldName));
    if (layout instanceof Error) throw new Error(`vpcflow fieldList: ${layout.message}`);
    configured = layout;
  }
  // A header line in the file names the fields of the lines after it, whatever fieldList says.
  let fromHeader: FieldLayout | undefined;
  return {
    parse(record: string): RecordResult {
      const headerNames = headerFieldNames(record);
      if (headerNames !== undefined) {
        const layout = layoutOf(headerNames);
        if (layout instanceof Error) return { kind: 'error', reason: `header line: ${layout.message}` };
        fromHeader = layout;
        return { kind: 'skip' };
      }
      const layout = fromHeader ?? configured;
      if (layout !== undefined) {
        const columns = columnsOf(record, layout.names.length);
        if (columns.length === layout.names.length) return parseColumns(layout, columns);
        return {
          kind: 'error',
          reason: `expected ${layout.names.length} fields (${fromHeader === undefined ? 'fieldList' : 'header line'}), found ${columns.length}`,
        };
      }
      const columns = columnsOf(record, DEFAULT_FIELDS.length);
      if (columns.length === DEFAULT_FIELDS.length) return parseColumns(DEFAULT_LAYOUT, columns);
      if (columns.length === DEFAULT_AND_V3_TO_V5_FIELDS.length)
        return parseColumns(DEFAULT_AND_V3_TO_V5_LAYOUT, columns);
      return {
        kind: 'error',
        reason: `expected the default format's ${DEFAULT_FIELDS.length} fields (or ${DEFAULT_AND_V3_TO_V5_FIELDS.length}), found ${columns.length}; a custom format needs a header line or fieldList`,
      };
    },
  };
}

const VPC_FLOW_KEY = /(?:^|\/)AWSLogs\/[^/]+\/(?:aws-service=)?vpcflowlogs\//;

/** VPC Flow Logs delivered to S3 as text, in the default or a custom format. */
export const vpcFlowFormat: LogFormat = {
  name: 'vpcflow',
  framing: 'lines',
  matchesKey: (key) => VPC_FLOW_KEY.test(key),
  matchesContent: (firstLine) =>
    headerFieldNames(firstLine) !== undefined || DEFAULT_RECORD_START.test(firstLine),
  createParser: createVpcFlowParser,
};
