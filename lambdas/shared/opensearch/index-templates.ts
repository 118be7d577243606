/**
 * Index templates, one per document type (`<prefix>-alb-*`, `<prefix>-cloudtrail-*`...), kept as
 * data: the field types each format's documents need, so that the first document of a day does
 * not decide them by dynamic mapping (a status code seen first as text, an IP as text, a
 * CloudTrail `requestParameters` subtree adding hundreds of fields until the index refuses more).
 *
 * Choices made for every template:
 * - `@timestamp` is `date`; `log.type`/`log.file` keyword, `log.line` long.
 * - IPs are `ip` with `ignore_malformed` (a value that is not an IP stays in `_source` and is
 *   not indexed, instead of failing the document); a field that is sometimes a host name or a
 *   service name (CloudTrail `sourceIPAddress`, syslog `hostname`) is a keyword with an `ip`
 *   sub-field (`sourceIPAddress.ip`).
 * - Messages, URLs and user agents are keywords with a `text` sub-field (`user_agent.text`) for
 *   full-text search; other strings are keywords, including unknown ones (a dynamic template),
 *   and date detection is off, so an unknown string field never becomes a date that refuses the
 *   next value.
 * - Free-form subtrees (CloudTrail `requestParameters`, `responseElements`...; WAF
 *   `httpRequest.headers`, `ruleGroupList`...) are `flat_object` on OpenSearch 2.17 and later,
 *   searchable by dotted path, and `enabled: false` (kept in `_source`, not searchable) on older
 *   clusters and Elasticsearch-based domains. `flat_object` exists since 2.7, but before 2.17 it
 *   refuses an explicit `null` (CloudTrail writes `"responseElements": null` all the time).
 *
 * @see https://docs.opensearch.org/latest/im-plugin/index-templates/
 * @see https://docs.opensearch.org/latest/field-types/supported-field-types/flat-object/
 */
import { createHash } from 'node:crypto';
import type { FormatName } from '../../core/types';

/** A field mapping, as JSON. */
export type FieldMapping = Readonly<Record<string, unknown>>;

/** Every document type: a format name, or ALB connection logs' `alb_connection` override. */
export type DocumentType = FormatName | 'alb_connection';

/** How free-form subtrees are mapped. */
export type FreeFormMapping = 'flat_object' | 'disabled';

// Stands for the free-form mapping until the cluster's version picks it.
const FREE_FORM: FieldMapping = { type: '$free_form' };

const KEYWORD: FieldMapping = { type: 'keyword', ignore_above: 1024 };
// Long enough for a message's useful prefix; Lucene refuses terms over 32766 bytes (8191 × 4).
const SEARCHABLE_TEXT: FieldMapping = {
  type: 'keyword',
  ignore_above: 8191,
  fields: { text: { type: 'text' } },
};
const IP: FieldMapping = { type: 'ip', ignore_malformed: true };
const IP_OR_NAME: FieldMapping = { ...KEYWORD, fields: { ip: IP } };
const DATE: FieldMapping = { type: 'date' };
const LONG: FieldMapping = { type: 'long' };
const INTEGER: FieldMapping = { type: 'integer' };
const SHORT: FieldMapping = { type: 'short' };
const DOUBLE: FieldMapping = { type: 'double' };
const BOOLEAN: FieldMapping = { type: 'boolean' };

/** Fields every delimited format may add: values after the known ones, values of the wrong kind. */
const DELIMITED_EXTRAS = { extra_fields: KEYWORD, invalid_fields: FREE_FORM };

/**
 * The typed fields of each document type, by dotted path. Fields not listed are mapped
 * dynamically (strings as keywords). Names follow the format modules in `lambdas/core/formats/`.
 */
export const DOCUMENT_FIELDS: Readonly<Record<DocumentType, Readonly<Record<string, FieldMapping>>>> = {
  alb: {
    time: DATE,
    client_ip: IP,
    client_port: INTEGER,
    target_ip: IP,
    target_port: INTEGER,
    request_processing_time: DOUBLE,
    target_processing_time: DOUBLE,
    response_processing_time: DOUBLE,
    elb_status_code: SHORT,
    target_status_code: SHORT,
    received_bytes: LONG,
    sent_bytes: LONG,
    request_url: SEARCHABLE_TEXT,
    user_agent: SEARCHABLE_TEXT,
    matched_rule_priority: INTEGER,
    request_creation_time: DATE,
    redirect_url: SEARCHABLE_TEXT,
    transformed_uri: SEARCHABLE_TEXT,
    ...DELIMITED_EXTRAS,
  },
  alb_connection: {
    timestamp: DATE,
    client_ip: IP,
    client_port: INTEGER,
    listener_port: INTEGER,
    tls_handshake_latency: DOUBLE,
    leaf_client_cert_subject: SEARCHABLE_TEXT,
    leaf_client_cert_not_before: DATE,
    leaf_client_cert_not_after: DATE,
    ...DELIMITED_EXTRAS,
  },
  nlb: {
    time: DATE,
    client_ip: IP,
    client_port: INTEGER,
    destination_ip: IP,
    destination_port: INTEGER,
    connection_time: DOUBLE,
    tls_handshake_time: DOUBLE,
    received_bytes: LONG,
    sent_bytes: LONG,
    tls_connection_creation_time: DATE,
    ...DELIMITED_EXTRAS,
  },
  elb: {
    time: DATE,
    client_ip: IP,
    client_port: INTEGER,
    backend_ip: IP,
    backend_port: INTEGER,
    request_processing_time: DOUBLE,
    backend_processing_time: DOUBLE,
    response_processing_time: DOUBLE,
    elb_status_code: SHORT,
    backend_status_code: SHORT,
    received_bytes: LONG,
    sent_bytes: LONG,
    request_url: SEARCHABLE_TEXT,
    user_agent: SEARCHABLE_TEXT,
    ...DELIMITED_EXTRAS,
  },
  cloudfront: {
    sc_bytes: LONG,
    // `c_ip` is the viewer's IP; `x_forwarded_for` may list several, so it stays a keyword.
    c_ip: IP,
    c_port: INTEGER,
    cs_uri_stem: SEARCHABLE_TEXT,
    cs_uri_query: SEARCHABLE_TEXT,
    cs_referer: SEARCHABLE_TEXT,
    cs_user_agent: SEARCHABLE_TEXT,
    sc_status: SHORT,
    cs_bytes: LONG,
    time_taken: DOUBLE,
    time_to_first_byte: DOUBLE,
    sc_content_len: LONG,
    sc_range_start: LONG,
    sc_range_end: LONG,
    asn: LONG,
    cs_headers_count: INTEGER,
    origin_fbl: DOUBLE,
    origin_lbl: DOUBLE,
    ...DELIMITED_EXTRAS,
  },
  s3access: {
    time: DATE,
    remote_ip: IP,
    key: SEARCHABLE_TEXT,
    request_uri: SEARCHABLE_TEXT,
    request_path: SEARCHABLE_TEXT,
    http_status: SHORT,
    bytes_sent: LONG,
    object_size: LONG,
    total_time: LONG,
    turn_around_time: LONG,
    referer: SEARCHABLE_TEXT,
    user_agent: SEARCHABLE_TEXT,
    ...DELIMITED_EXTRAS,
  },
  vpcflow: {
    version: SHORT,
    srcaddr: IP,
    dstaddr: IP,
    srcport: INTEGER,
    dstport: INTEGER,
    protocol: SHORT,
    packets: LONG,
    bytes: LONG,
    start: LONG,
    end: LONG,
    tcp_flags: INTEGER,
    pkt_srcaddr: IP,
    pkt_dstaddr: IP,
    traffic_path: SHORT,
    encryption_status: SHORT,
    packets_lost_no_route: LONG,
    packets_lost_blackhole: LONG,
    packets_lost_mtu_exceeded: LONG,
    packets_lost_ttl_expired: LONG,
  },
  waf: {
    timestamp: { type: 'date', format: 'epoch_millis' },
    formatVersion: INTEGER,
    responseCodeSent: SHORT,
    terminatingRuleMatchDetails: FREE_FORM,
    ruleGroupList: FREE_FORM,
    rateBasedRuleList: FREE_FORM,
    nonTerminatingMatchingRules: FREE_FORM,
    requestHeadersInserted: FREE_FORM,
    captchaResponse: FREE_FORM,
    challengeResponse: FREE_FORM,
    'httpRequest.clientIp': IP,
    'httpRequest.headers': FREE_FORM,
    'httpRequest.uri': SEARCHABLE_TEXT,
    'httpRequest.args': SEARCHABLE_TEXT,
    // Labels always have the same shape, so they stay a plain keyword: `labels.name`.
    'labels.name': KEYWORD,
    requestBodySize: LONG,
    requestBodySizeInspectedByWAF: LONG,
  },
  cloudtrail: {
    eventTime: DATE,
    sourceIPAddress: IP_OR_NAME,
    userAgent: SEARCHABLE_TEXT,
    errorMessage: SEARCHABLE_TEXT,
    readOnly: BOOLEAN,
    managementEvent: BOOLEAN,
    'userIdentity.sessionContext.attributes.creationDate': DATE,
    'userIdentity.sessionContext.webIdFederationData': FREE_FORM,
    requestParameters: FREE_FORM,
    responseElements: FREE_FORM,
    additionalEventData: FREE_FORM,
    serviceEventDetails: FREE_FORM,
    insightDetails: FREE_FORM,
    edgeDeviceDetails: FREE_FORM,
    addendum: FREE_FORM,
  },
  syslog: {
    facility_code: SHORT,
    severity_code: SHORT,
    version: SHORT,
    hostname: IP_OR_NAME,
    // Numeric PROCIDs are `pid`; others (`-` aside) are `procid`, a keyword.
    pid: LONG,
    structured_data: FREE_FORM,
    message: SEARCHABLE_TEXT,
  },
  json: {},
  regex: {},
};

/** What every document has: the core's `@timestamp` and `log` members. */
const COMMON_FIELDS: Readonly<Record<string, FieldMapping>> = {
  '@timestamp': DATE,
  'log.type': KEYWORD,
  'log.file': KEYWORD,
  'log.line': LONG,
};

/** Priority of this project's templates: above OpenSearch's defaults and catch-all user templates. */
export const TEMPLATE_PRIORITY = 200;

/** Who manages a template, in its `_meta`. */
export const TEMPLATE_OWNER = 'aws-log-pipeline';

/** Settings of the indices the templates create. */
export interface IndexTemplateOptions {
  /** Index name prefix, as in `INDEX_PREFIX`. */
  readonly prefix: string;
  readonly freeForm: FreeFormMapping;
  /** Primary shards of a daily index. @default 1 */
  readonly shards?: number;
  /** Replicas. @default the cluster's default */
  readonly replicas?: number;
}

/** A composable index template, named, with the body `PUT /_index_template/<name>` takes. */
export interface IndexTemplate {
  readonly name: string;
  readonly body: {
    readonly index_patterns: readonly string[];
    readonly priority: number;
    readonly template: {
      readonly settings: Record<string, unknown>;
      readonly mappings: Record<string, unknown>;
    };
    /** `hash` identifies the body, so an installer can tell an up-to-date template without comparing mappings. */
    readonly _meta: { readonly managed_by: string; readonly hash: string };
  };
}

/** The index templates of every document type, in a stable order. */
export function buildIndexTemplates(options: IndexTemplateOptions): IndexTemplate[] {
  return (Object.keys(DOCUMENT_FIELDS) as DocumentType[]).map((type) => buildIndexTemplate(type, options));
}

/** The index template of one document type: `<prefix>-<type>`, for indices `<prefix>-<type>-*`. */
export function buildIndexTemplate(type: DocumentType, options: IndexTemplateOptions): IndexTemplate {
  const fields = { ...COMMON_FIELDS, ...DOCUMENT_FIELDS[type] };
  const freeForm: FieldMapping =
    options.freeForm === 'flat_object' ? { type: 'flat_object' } : { type: 'object', enabled: false };
  const properties: Record<string, unknown> = {};
  for (const [path, mapping] of Object.entries(fields)) {
    setPath(properties, path.split('.'), mapping === FREE_FORM ? freeForm : mapping);
  }
  const template = {
    settings: {
      index: {
        number_of_shards: options.shards ?? 1,
        ...(options.replicas !== undefined && { number_of_replicas: options.replicas }),
      },
    },
    mappings: {
      date_detection: false,
      dynamic_templates: [{ strings_as_keywords: { match_mapping_type: 'string', mapping: KEYWORD } }],
      properties,
    },
  };
  const content = { index_patterns: [`${options.prefix}-${type}-*`], priority: TEMPLATE_PRIORITY, template };
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
  return {
    name: `${options.prefix}-${type}`,
    body: { ...content, _meta: { managed_by: TEMPLATE_OWNER, hash } },
  };
}

/** Nests a dotted path into `properties` objects. */
function setPath(properties: Record<string, unknown>, path: readonly string[], mapping: FieldMapping): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    properties[head] = mapping;
    return;
  }
  const existing = properties[head] as { properties?: Record<string, unknown> } | undefined;
  const object = existing?.properties ?? {};
  properties[head] = { properties: object };
  setPath(object, rest, mapping);
}

/** The first OpenSearch version whose `flat_object` takes explicit nulls (CloudTrail's). */
export const FLAT_OBJECT_SAFE_SINCE = [2, 17] as const;

/**
 * The free-form mapping a cluster supports, from its `GET /` answer: `flat_object` on
 * OpenSearch ≥ 2.17, `disabled` otherwise (older OpenSearch, Elasticsearch-based domains, or an
 * answer without a version, as OpenSearch Serverless gives).
 */
export function freeFormMappingFor(info: unknown): FreeFormMapping {
  const version = (info as { version?: { distribution?: unknown; number?: unknown } } | undefined)?.version;
  if (version?.distribution !== 'opensearch' || typeof version.number !== 'string') return 'disabled';
  const [major = 0, minor = 0] = version.number.split('.').map(Number);
  const [safeMajor, safeMinor] = FLAT_OBJECT_SAFE_SINCE;
  return major > safeMajor || (major === safeMajor && minor >= safeMinor) ? 'flat_object' : 'disabled';
}
