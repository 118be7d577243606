/**
 * The Elastic Load Balancing family: ALB access logs, ALB connection logs, NLB access logs and
 * Classic Load Balancer access logs. They share one delimited syntax but not one layout, and real
 * files mix them (a bucket prefix that collects several load balancers, or a test file such as
 * Elastic's `test-alb.log`), so every line is recognised by its shape and parsed with its own
 * layout, whichever of the three formats was chosen for the object: nothing in a file is lost.
 */

import type { CodeUnits } from '../char-codes';
import * as charCodes from '../char-codes';
import { quoteJson } from '../json';
import { toIsoUtcAssumingUtc, toIsoUtcFast } from '../time';
import type { RecordParser, RecordResult } from '../types';
import {
  type DelimitedField,
  type DelimitedLayout,
  DelimitedRecordWriter,
  type DelimitedSyntax,
  decodePercentEncoded,
  endpointField,
  eventTimeField,
  numberField,
  stringField,
} from './delimited';

// Hot per-character helpers as local bindings: where modules are compiled to CommonJS one by one
// (tsx, Jest), every use of an imported name goes through a getter, a cost per character here.
const { codeUnitAt, indexOfCode, isDigitCode } = charCodes;

/** The shape of one ELB-family line; also the event's `log.type` when it differs from the format's. */
export type ElbFlavour = 'alb' | 'alb_connection' | 'nlb' | 'elb';

const QUOTED_SYNTAX: DelimitedSyntax = { separator: 'space', quotes: true, brackets: false };

/**
 * The values ALB inherited from the Classic Load Balancer, from the client to the TLS protocol:
 * the same names but for the instance or target behind the load balancer (`peer`).
 */
function proxiedRequestFields(peer: 'target' | 'backend'): DelimitedField[] {
  return [
    endpointField('client'),
    endpointField(peer),
    numberField('request_processing_time'),
    numberField(`${peer}_processing_time`),
    numberField('response_processing_time'),
    numberField('elb_status_code'),
    numberField(`${peer}_status_code`),
    numberField('received_bytes'),
    numberField('sent_bytes'),
    {
      name: 'request',
      kind: 'request',
      parts: { method: 'request_method', target: 'request_url', protocol: 'request_protocol' },
    },
    stringField('user_agent'),
    stringField('ssl_cipher'),
    stringField('ssl_protocol'),
  ];
}

/**
 * ALB access log entries, every field AWS documents up to 2025 (`transformed_host`,
 * `transformed_uri`, `request_transform_status`). `time` becomes the event time (kept with its
 * microseconds); `client:port` and `target:port` are split; the request line becomes
 * `request_method`, `request_url` and `request_protocol`; the processing times stay `-1` when the
 * request never reached a target. `target_port_list` and `target_status_code_list` are kept as the
 * space-separated text AWS writes.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 */
export const ALB_ACCESS_LAYOUT: DelimitedLayout = {
  description: 'ALB access log entry',
  syntax: QUOTED_SYNTAX,
  // The oldest ALB entries end after trace_id.
  minimumValues: 17,
  fields: [
    stringField('type'),
    eventTimeField('time', toIsoUtcFast),
    stringField('elb'),
    ...proxiedRequestFields('target'),
    stringField('target_group_arn'),
    stringField('trace_id'),
    stringField('domain_name'),
    stringField('chosen_cert_arn'),
    numberField('matched_rule_priority'),
    { name: 'request_creation_time', kind: 'time', parse: toIsoUtcFast },
    stringField('actions_executed'),
    stringField('redirect_url'),
    stringField('error_reason'),
    stringField('target_port_list'),
    stringField('target_status_code_list'),
    stringField('classification'),
    stringField('classification_reason'),
    stringField('conn_trace_id'),
    stringField('transformed_host'),
    stringField('transformed_uri'),
    stringField('request_transform_status'),
  ],
};

const CERT_VALIDITY = /^NotBefore=([^;]+);NotAfter=(.+)$/;

/** `NotBefore=…;NotAfter=…` as two ISO-8601 members, so validity can be searched as a date range. */
function certificateValidityMembers(text: string): string | undefined {
  const match = CERT_VALIDITY.exec(text);
  const notBefore = match?.[1] === undefined ? undefined : toIsoUtcFast(match[1]);
  const notAfter = match?.[2] === undefined ? undefined : toIsoUtcFast(match[2]);
  if (notBefore === undefined || notAfter === undefined) return undefined;
  return `"leaf_client_cert_not_before":"${notBefore}","leaf_client_cert_not_after":"${notAfter}"`;
}

/**
 * ALB connection log entries (one per TLS connection). `leaf_client_cert_validity` becomes
 * `leaf_client_cert_not_before` and `leaf_client_cert_not_after`.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logs.html
 */
export const ALB_CONNECTION_LAYOUT: DelimitedLayout = {
  description: 'ALB connection log entry',
  syntax: QUOTED_SYNTAX,
  // conn_trace_id was added later.
  minimumValues: 11,
  fields: [
    eventTimeField('timestamp', toIsoUtcFast),
    stringField('client_ip'),
    numberField('client_port'),
    numberField('listener_port'),
    stringField('tls_protocol'),
    stringField('tls_cipher'),
    numberField('tls_handshake_latency'),
    stringField('leaf_client_cert_subject'),
    { name: 'leaf_client_cert_validity', kind: 'custom', toMembers: certificateValidityMembers },
    stringField('leaf_client_cert_serial_number'),
    stringField('tls_verify_status'),
    stringField('conn_trace_id'),
  ],
};

/**
 * `"h2","http/1.1"` (each protocol quoted and URL-encoded, comma-separated) as a JSON array of the
 * protocol names, so a search for `h2` matches.
 */
function alpnListMembers(text: string): string {
  const protocols = text
    .split(',')
    .map((item) => decodePercentEncoded(item.replace(/^\\?"|\\?"$/g, '')))
    .filter((item) => item !== '');
  return `"alpn_client_preference_list":[${protocols.map(quoteJson).join(',')}]`;
}

/**
 * NLB access log entries (TLS listeners), version 1.0 and 2.0. NLB quotes nothing, so values are
 * cut at spaces only (`alpn_client_preference_list` holds quotes of its own), and its times carry
 * no zone: they are UTC.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html
 */
export const NLB_ACCESS_LAYOUT: DelimitedLayout = {
  description: 'NLB access log entry',
  syntax: { separator: 'space', quotes: false, brackets: false },
  // Version 1.0 ends after domain_name.
  minimumValues: 17,
  fields: [
    stringField('type'),
    stringField('version'),
    eventTimeField('time', toIsoUtcAssumingUtc),
    stringField('elb'),
    stringField('listener'),
    endpointField('client'),
    endpointField('destination'),
    numberField('connection_time'),
    numberField('tls_handshake_time'),
    numberField('received_bytes'),
    numberField('sent_bytes'),
    stringField('incoming_tls_alert'),
    stringField('chosen_cert_arn'),
    stringField('chosen_cert_serial'),
    stringField('tls_cipher'),
    stringField('tls_protocol_version'),
    stringField('tls_named_group'),
    stringField('domain_name'),
    stringField('alpn_fe_protocol'),
    stringField('alpn_be_protocol'),
    { name: 'alpn_client_preference_list', kind: 'custom', toMembers: alpnListMembers },
    { name: 'tls_connection_creation_time', kind: 'time', parse: toIsoUtcAssumingUtc },
  ],
};

/**
 * Classic Load Balancer access log entries (HTTP, HTTPS, SSL and TCP listeners; TCP and SSL
 * requests are `"- - - "`, so they have no request fields).
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html
 */
export const CLASSIC_ACCESS_LAYOUT: DelimitedLayout = {
  description: 'Classic ELB access log entry',
  syntax: QUOTED_SYNTAX,
  // Entries before user_agent and the TLS fields were added end after the request.
  minimumValues: 12,
  fields: [eventTimeField('time', toIsoUtcFast), stringField('elb'), ...proxiedRequestFields('backend')],
};

const LAYOUTS: Readonly<Record<ElbFlavour, DelimitedLayout>> = {
  alb: ALB_ACCESS_LAYOUT,
  alb_connection: ALB_CONNECTION_LAYOUT,
  nlb: NLB_ACCESS_LAYOUT,
  elb: CLASSIC_ACCESS_LAYOUT,
};

const SPACE = 32;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const LETTER_T = 84;

function isDigitAt(text: CodeUnits, index: number): boolean {
  return isDigitCode(codeUnitAt(text, index));
}

/** Whether `[index, end)` of `text` starts with `dddd-dd-ddT`: the start of an ISO-8601 date-time. */
function isIsoDateTimeAt(text: CodeUnits, index: number, end: number): boolean {
  return (
    index + 10 < end &&
    isDigitAt(text, index) &&
    isDigitAt(text, index + 3) &&
    codeUnitAt(text, index + 4) === DASH &&
    codeUnitAt(text, index + 7) === DASH &&
    isDigitAt(text, index + 9) &&
    codeUnitAt(text, index + 10) === LETTER_T
  );
}

/** Whether `[from, to)` of `text` is a version such as `2.0`. */
function isVersion(text: CodeUnits, from: number, to: number): boolean {
  const dot = indexOfCode(text, DOT, from, to);
  if (dot <= from || dot >= to - 1) return false;
  for (let index = from; index < to; index++) if (index !== dot && !isDigitAt(text, index)) return false;
  return true;
}

/**
 * Which ELB-family layout the line `[start, end)` of `text` (a string, or UTF-8 bytes) has, from
 * its first values, or undefined for none:
 * - `<type> <ISO time> …`: ALB access (`http`, `https`, `h2`, `grpcs`, `ws`, `wss`);
 * - `<type> <version> <time> …`: NLB access (`tls 2.0 …`);
 * - `<ISO time> <ip> <port> …`: ALB connection;
 * - `<ISO time> <name> <ip:port> …`: Classic ELB (names hold only letters, digits and hyphens).
 */
export function elbFlavourAt(text: CodeUnits, start: number, end: number): ElbFlavour | undefined {
  const firstSpace = indexOfCode(text, SPACE, start, end);
  if (firstSpace <= start) return undefined;
  const second = firstSpace + 1;
  if (isIsoDateTimeAt(text, start, end)) {
    let index = second;
    for (; index < end && codeUnitAt(text, index) !== SPACE; index++) {
      const code = codeUnitAt(text, index);
      if (code === DOT || code === COLON) return 'alb_connection';
    }
    return index > second ? 'elb' : undefined;
  }
  if (isIsoDateTimeAt(text, second, end)) return 'alb';
  const secondEnd = indexOfCode(text, SPACE, second, end);
  if (secondEnd > second && isVersion(text, second, secondEnd) && isIsoDateTimeAt(text, secondEnd + 1, end))
    return 'nlb';
  return undefined;
}

/** The ELB-family layout of `line` (see {@link elbFlavourAt}), or undefined for none. */
export function elbFlavourOf(line: string): ElbFlavour | undefined {
  return elbFlavourAt(line, 0, line.length);
}

/**
 * A parser for the ELB-family format `own`. Each line is parsed with the layout of its shape; a
 * line of another flavour carries that flavour as its event `type`.
 */
export function createElbFamilyParser(own: ElbFlavour): RecordParser {
  const writers = new Map<ElbFlavour, DelimitedRecordWriter>();
  // Files rarely change flavour from one line to the next: skip the map lookup while they do not.
  let lastFlavour: ElbFlavour | undefined;
  let lastWriter: DelimitedRecordWriter | undefined;
  const writerFor = (flavour: ElbFlavour): DelimitedRecordWriter => {
    if (flavour === lastFlavour && lastWriter !== undefined) return lastWriter;
    let writer = writers.get(flavour);
    if (writer === undefined) {
      writer = new DelimitedRecordWriter(LAYOUTS[flavour]);
      writers.set(flavour, writer);
    }
    lastFlavour = flavour;
    lastWriter = writer;
    return writer;
  };
  return {
    parse(line: string): RecordResult {
      const flavour = elbFlavourOf(line);
      if (flavour === undefined) {
        return {
          kind: 'error',
          reason: `not an ALB, NLB, Classic ELB or ALB connection log entry: starts ${quoteJson(line.slice(0, 40))}`,
        };
      }
      return writerFor(flavour).write(line, flavour === own ? undefined : flavour);
    },
  };
}

/** Serves content detection: one parser that knows every flavour, made on first use. */
let detectionParser: RecordParser | undefined;

/**
 * The flavour of an object's first line for content detection, which is stricter than the per-line
 * shape check: the line must also parse as an event of that flavour with every value what its
 * field expects, so a generic log line that merely starts with an ISO time is not taken for a
 * Classic ELB or connection log entry.
 */
export function detectElbFlavour(firstLine: string): ElbFlavour | undefined {
  const flavour = elbFlavourOf(firstLine);
  if (flavour === undefined) return undefined;
  detectionParser ??= createElbFamilyParser('alb');
  const result = detectionParser.parse(firstLine, 1);
  return result.kind === 'event' && !result.fields.includes('"invalid_fields":') ? flavour : undefined;
}
