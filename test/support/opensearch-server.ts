/**
 * An OpenSearch-compatible test server: a small HTTP server (127.0.0.1 only) that speaks the part
 * of the OpenSearch REST API the indexer, the CLI and the demo use, with the real wire formats,
 * plus fault injection for tests. It stands in for a cluster on machines without one; the same
 * tests run against a real cluster when `OPENSEARCH_URL` is set (see {@link openSearchTarget} and
 * `docs/opensearch-testing.md`).
 *
 * API: `GET /`, `PUT|POST|GET|HEAD|DELETE /_index_template/<name>`, index auto-creation from the
 * highest-priority matching template, `PUT|GET|HEAD|DELETE /<index>`, `GET /<index>/_mapping`,
 * `POST /_bulk` and `/<index>/_bulk` (`index`, `create`, `update`, `delete`; `?refresh`),
 * `/_refresh`, `/<index>/_refresh`, `GET|POST /<index>/_count` and `/_search`,
 * `GET|HEAD|DELETE /<index>/_doc/<id>`, `GET /_cat/indices?format=json`, `GET /_cluster/health`.
 * Index expressions accept `,`, `*` and `_all`; every JSON response honours `?filter_path`
 * (`./opensearch/filter-path.ts`). Mapping behaviour: `./opensearch/mapping.ts`.
 *
 * Faults, from a test ({@link OpenSearchTestServer.injectFaults}) or over HTTP
 * (`POST /_test/faults` with a {@link FaultSpec}, `DELETE /_test/faults`): per-item 429 for the
 * first N attempts of matching documents, whole-request 5xx for the next N requests, slow
 * responses, dropped connections, a red cluster. Stopping the server gives connection refused.
 * Requests are recorded (`server.requests`, `GET /_test/requests`).
 *
 * Standalone: `npx tsx test/support/opensearch-server.ts --port 9200 [--version 2.19.1]`.
 *
 * @see https://docs.opensearch.org/latest/api-reference/
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Client } from '@opensearch-project/opensearch';
import { createOpenSearchClient, type OpenSearchConnection } from '../../lambdas/shared/opensearch/client';
import { cause, illegalArgument, type OpenSearchErrorCause, OpenSearchHttpError } from './opensearch/errors';
import { filterPath } from './opensearch/filter-path';
import { FLAT_OBJECT_SINCE, globMatches, isObject, type JsonObject } from './opensearch/mapping';
import { compileQuery, resolveField, toSortable, valuesAt } from './opensearch/query';
import {
  type BulkItemResult,
  type BulkOperation,
  ClusterStore,
  generateDocumentId,
  type IndexState,
  nestSettings,
} from './opensearch/store';

/** How the test server behaves. */
export interface OpenSearchTestServerOptions {
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** The OpenSearch version it reports; `flat_object` exists from 2.7. @default '2.19.1' */
  readonly version?: string;
  /** Documents become searchable this long after being written, or at a refresh. @default 1000 */
  readonly refreshIntervalMs?: number;
  /** Larger request bodies get 413, like `http.max_content_length`. @default 100 MiB */
  readonly maxContentLength?: number;
  /** Keep request bodies in {@link RecordedRequest.body} (tests that inspect what was sent). @default false */
  readonly recordBodies?: boolean;
  /** Data nodes: an index with more replicas than nodes - 1 makes the cluster yellow. @default 1 */
  readonly nodes?: number;
  /**
   * Keep each document's `_source`. `false` still parses and maps every document (conflicts are
   * refused as usual) but keeps only its id, version and size, so a load test's millions of
   * documents fit in memory; searches then return an empty `_source`. @default true
   */
  readonly storeSources?: boolean;
  /**
   * Parse and map each created document. `false` only counts them (ids, versions, sizes; no
   * `_source`, no mapping conflicts): for load tests, where mapping costs the server more CPU
   * than the indexer spends producing the documents. @default true
   */
  readonly mapDocuments?: boolean;
}

/** Faults to inject; each call to {@link OpenSearchTestServer.injectFaults} replaces the named ones. */
export interface FaultSpec {
  /** Per-item 429 (`rejected_execution_exception`) for the first `attempts` attempts of each matching document. */
  readonly rejectItems?: {
    readonly attempts: number;
    /** Index name or `*` pattern. @default '*' */
    readonly index?: string;
    /** Only these document ids. @default every id */
    readonly ids?: readonly string[];
  };
  /** Whole-request failures for the next `count` requests whose path matches. */
  readonly failRequests?: {
    readonly count: number;
    /** 5xx and 429 are what a struggling cluster answers; 401/403 test refusals. @default 503 */
    readonly status?: number;
    /** Path `*` pattern. @default '/_bulk' and '/<index>/_bulk' only ('*_bulk') */
    readonly path?: string;
  };
  /** Every response is delayed this long. */
  readonly delayMs?: number;
  /** The next `count` requests have their connection closed without a response. */
  readonly dropConnections?: number;
  /** Overrides the computed `_cluster/health` status. */
  readonly clusterStatus?: 'green' | 'yellow' | 'red';
}

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Request body size in bytes, as received (compressed if it was). */
  readonly bytes: number;
  /** Bulk requests: number of actions. */
  readonly items?: number;
  /** HTTP status sent; 0 when the connection was dropped. */
  status: number;
  readonly body?: string;
  /** Request headers (lower-case names), e.g. to check a signature. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** When the request arrived, and when its response was sent (epoch ms). */
  readonly at: number;
  completedAt?: number;
}

interface ActiveFaults {
  rejectItems?: { attempts: number; index: string; ids?: ReadonlySet<string> };
  failRequests?: { remaining: number; status: number; path: string };
  delayMs: number;
  dropConnections: number;
  clusterStatus?: 'green' | 'yellow' | 'red';
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  /** Plain text or HTML instead of JSON. */
  readonly text?: string;
  readonly contentType?: string;
}

interface RequestContext {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: Readonly<Record<string, string>>;
  readonly bodyText: string;
  readonly record: RecordedRequest;
}

const DEFAULT_VERSION = '2.19.1';

/** A running OpenSearch-compatible test server. */
export class OpenSearchTestServer {
  /** Every request received, oldest first (except `/_test/*` admin calls). */
  readonly requests: RecordedRequest[] = [];
  private readonly store: ClusterStore;
  private faults: ActiveFaults = { delayMs: 0, dropConnections: 0 };
  private readonly itemAttempts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Omit<OpenSearchTestServerOptions, 'port'>>,
  ) {
    this.store = new ClusterStore({
      supportsFlatObject: versionAtLeast(options.version, FLAT_OBJECT_SINCE),
      refreshIntervalMs: options.refreshIntervalMs,
      storeSources: options.storeSources,
      mapDocuments: options.mapDocuments,
    });
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: OpenSearchTestServerOptions = {}): Promise<OpenSearchTestServer> {
    const server = createServer();
    const instance = new OpenSearchTestServer(server, {
      version: options.version ?? DEFAULT_VERSION,
      refreshIntervalMs: options.refreshIntervalMs ?? 1_000,
      maxContentLength: options.maxContentLength ?? 100 * 1024 * 1024,
      recordBodies: options.recordBodies ?? false,
      nodes: options.nodes ?? 1,
      storeSources: options.storeSources ?? true,
      mapDocuments: options.mapDocuments ?? true,
    });
    server.on('request', (request, response) => void instance.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return instance;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Its base URL, `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Bulk requests received so far. */
  get bulkRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.path.endsWith('/_bulk'));
  }

  /** Replaces the faults named in `spec`; the others stay as they are. */
  injectFaults(spec: FaultSpec): void {
    if (spec.rejectItems !== undefined) {
      this.itemAttempts.clear();
      this.faults.rejectItems = {
        attempts: spec.rejectItems.attempts,
        index: spec.rejectItems.index ?? '*',
        ...(spec.rejectItems.ids !== undefined && { ids: new Set(spec.rejectItems.ids) }),
      };
    }
    if (spec.failRequests !== undefined) {
      this.faults.failRequests = {
        remaining: spec.failRequests.count,
        status: spec.failRequests.status ?? 503,
        path: spec.failRequests.path ?? '*_bulk',
      };
    }
    if (spec.delayMs !== undefined) this.faults.delayMs = spec.delayMs;
    if (spec.dropConnections !== undefined) this.faults.dropConnections = spec.dropConnections;
    if (spec.clusterStatus !== undefined) this.faults.clusterStatus = spec.clusterStatus;
  }

  /** Removes every fault. */
  clearFaults(): void {
    this.faults = { delayMs: 0, dropConnections: 0 };
    this.itemAttempts.clear();
  }

  /** Forgets recorded requests. */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Back to an empty cluster: no templates, indices, faults or recorded requests. */
  reset(): void {
    this.store.clear();
    this.clearFaults();
    this.clearRequests();
  }

  /** Stops listening and closes open connections: clients then get connection refused. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = (request.method ?? 'GET').toUpperCase();
    const segments = url.pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
    const query = Object.fromEntries(url.searchParams);
    const isAdmin = segments[0] === '_test';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      bytes: 0,
      status: 0,
      headers: { ...request.headers },
      at: Date.now(),
    };
    if (!isAdmin) this.requests.push(record);
    let reply: Reply;
    try {
      const body = await this.readBody(request, record);
      if (body === undefined) {
        reply = {
          status: 413,
          body: new OpenSearchHttpError(
            413,
            cause(
              'content_too_long_exception',
              `request body exceeds ${this.options.maxContentLength} bytes`,
            ),
          ).toBody(),
        };
      } else {
        const bodyText = body.toString('utf8');
        if (!isAdmin) {
          if (this.options.recordBodies) Object.assign(record, { body: bodyText });
          if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
          if (this.faults.dropConnections > 0) {
            this.faults.dropConnections -= 1;
            request.socket.destroy();
            return;
          }
        }
        reply =
          this.injectedFailure(url.pathname, isAdmin) ??
          this.route({ method, segments, query, bodyText, record });
      }
    } catch (error: unknown) {
      reply = errorReply(error);
    }
    const filter = query.filter_path;
    if (filter !== undefined && reply.body !== undefined)
      reply = { ...reply, body: filterPath(reply.body, filter) };
    record.status = reply.status;
    record.completedAt = Date.now();
    this.send(response, method, reply);
  }

  /** The body, or undefined when it is larger than `maxContentLength`. Gzip bodies are inflated. */
  private async readBody(request: IncomingMessage, record: RecordedRequest): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > this.options.maxContentLength) {
        Object.assign(record, { bytes: size });
        request.resume();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
    Object.assign(record, { bytes: size });
    const body = Buffer.concat(chunks);
    if (request.headers['content-encoding'] === 'gzip' && body.length > 0) {
      return gunzipSync(body, { maxOutputLength: this.options.maxContentLength });
    }
    return body;
  }

  private injectedFailure(path: string, isAdmin: boolean): Reply | undefined {
    const fail = this.faults.failRequests;
    if (isAdmin || fail === undefined || fail.remaining <= 0 || !globMatches(fail.path, path))
      return undefined;
    fail.remaining -= 1;
    if (fail.status === 502) {
      return {
        status: 502,
        text: '<html><body><h1>502 Bad Gateway</h1></body></html>',
        contentType: 'text/html',
      };
    }
    const type =
      fail.status === 429
        ? 'rejected_execution_exception'
        : fail.status === 503
          ? 'cluster_block_exception'
          : fail.status === 401 || fail.status === 403
            ? 'security_exception'
            : 'exception';
    return {
      status: fail.status,
      body: new OpenSearchHttpError(fail.status, cause(type, `injected fault: ${fail.status}`)).toBody(),
    };
  }

  private route(context: RequestContext): Reply {
    const { method, segments } = context;
    const [first, second, third] = segments;
    if (first === undefined) return method === 'HEAD' ? { status: 200 } : { status: 200, body: this.info() };
    if (first === '_test') return this.admin(context);
    if (first === '_bulk') return this.bulk(context, undefined);
    if (first === '_index_template') return this.indexTemplate(context, second);
    if (first === '_refresh') return this.refresh(undefined);
    if (first === '_count') return this.count(context, undefined);
    if (first === '_search') return this.search(context, undefined);
    if (first === '_mapping') return this.getMapping(undefined);
    if (first === '_cat' && second === 'indices') return this.catIndices(context, third);
    if (first === '_cluster' && second === 'health') return { status: 200, body: this.health() };
    if (first.startsWith('_'))
      throw illegalArgument(`no handler found for uri [/${segments.join('/')}] and method [${method}]`);
    switch (second) {
      case undefined:
        return this.indexApi(context, first);
      case '_bulk':
        return this.bulk(context, first);
      case '_refresh':
        return this.refresh(first);
      case '_count':
        return this.count(context, first);
      case '_search':
        return this.search(context, first);
      case '_mapping':
        return this.getMapping(first);
      case '_doc':
        return this.documentApi(context, first, third);
      default:
        throw illegalArgument(`no handler found for uri [/${segments.join('/')}] and method [${method}]`);
    }
  }

  private info(): JsonObject {
    return {
      name: 'opensearch-test-node',
      cluster_name: 'opensearch-test',
      cluster_uuid: 'opensearch-test-cluster-uuid',
      version: {
        distribution: 'opensearch',
        number: this.options.version,
        build_type: 'test',
        build_hash: 'test',
        build_date: '2025-01-01T00:00:00.000000000Z',
        build_snapshot: false,
        lucene_version: '9.12.1',
        minimum_wire_compatibility_version: '7.10.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: 'The OpenSearch Project: https://opensearch.org/',
    };
  }

  private admin(context: RequestContext): Reply {
    const [, resource] = context.segments;
    if (resource === 'faults' && context.method === 'POST') {
      this.injectFaults(parseJsonBody(context.bodyText) as FaultSpec);
      return { status: 200, body: { acknowledged: true } };
    }
    if (resource === 'faults' && context.method === 'DELETE') {
      this.clearFaults();
      return { status: 200, body: { acknowledged: true } };
    }
    if (resource === 'requests' && context.method === 'GET') return { status: 200, body: this.requests };
    if (resource === 'requests' && context.method === 'DELETE') {
      this.clearRequests();
      return { status: 200, body: { acknowledged: true } };
    }
    if (resource === 'reset' && context.method === 'POST') {
      this.reset();
      return { status: 200, body: { acknowledged: true } };
    }
    throw illegalArgument(`unknown test route ${context.method} /_test/${resource ?? ''}`);
  }

  private indexTemplate(context: RequestContext, name: string | undefined): Reply {
    const { method } = context;
    if ((method === 'PUT' || method === 'POST') && name !== undefined) {
      this.store.putTemplate(name, parseJsonBody(context.bodyText), context.query.create === 'true');
      return { status: 200, body: { acknowledged: true } };
    }
    const found = this.store.findTemplates(name ?? '*');
    if (method === 'HEAD') return { status: found.length > 0 ? 200 : 404 };
    if (found.length === 0 && name !== undefined && !name.includes('*')) {
      throw new OpenSearchHttpError(
        404,
        cause('resource_not_found_exception', `index template matching [${name}] not found`),
      );
    }
    if (method === 'DELETE') {
      for (const [templateName] of found) this.store.templates.delete(templateName);
      return { status: 200, body: { acknowledged: true } };
    }
    return {
      status: 200,
      body: {
        index_templates: found.map(([templateName, template]) => ({
          name: templateName,
          index_template: template,
        })),
      },
    };
  }

  private indexApi(context: RequestContext, expression: string): Reply {
    switch (context.method) {
      case 'PUT': {
        const index = this.store.createIndex(
          expression,
          context.bodyText === '' ? {} : parseJsonBody(context.bodyText),
        );
        return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index: index.name } };
      }
      case 'HEAD':
        try {
          return { status: this.store.resolveIndices(expression).length > 0 ? 200 : 404 };
        } catch {
          return { status: 404 };
        }
      case 'DELETE':
        for (const index of this.store.resolveIndices(expression)) this.store.indices.delete(index.name);
        return { status: 200, body: { acknowledged: true } };
      default:
        return {
          status: 200,
          body: Object.fromEntries(
            this.store.resolveIndices(expression).map((index) => [
              index.name,
              {
                aliases: {},
                mappings: index.mappings,
                settings: nestSettings(
                  new Map([
                    ...index.settings,
                    ['index.uuid', index.uuid],
                    ['index.creation_date', String(index.creationDate)],
                    ['index.provided_name', index.name],
                  ]),
                ),
              },
            ]),
          ),
        };
    }
  }

  private getMapping(expression: string | undefined): Reply {
    const indices = this.store.resolveIndices(expression);
    return {
      status: 200,
      body: Object.fromEntries(indices.map((index) => [index.name, { mappings: index.mappings }])),
    };
  }

  private documentApi(context: RequestContext, indexName: string, id: string | undefined): Reply {
    if (id === undefined) throw illegalArgument('document id is required');
    if (context.method === 'PUT' || context.method === 'POST') {
      const action = context.query.op_type === 'create' ? 'create' : 'index';
      const item = this.store.execute({ action, index: indexName, id, sourceText: context.bodyText });
      this.applyRefresh(context.query, [indexName]);
      return itemAsReply(item);
    }
    if (context.method === 'DELETE') {
      const item = this.store.execute({ action: 'delete', index: indexName, id });
      this.applyRefresh(context.query, [indexName]);
      return itemAsReply(item);
    }
    const [index] = this.store.resolveIndices(indexName);
    const document = index?.documents.get(id);
    if (context.method === 'HEAD') return { status: document === undefined ? 404 : 200 };
    if (index === undefined || document === undefined) {
      return { status: 404, body: { _index: indexName, _id: id, found: false } };
    }
    return {
      status: 200,
      body: {
        _index: index.name,
        _id: id,
        _version: document.version,
        _seq_no: document.seqNo,
        _primary_term: 1,
        found: true,
        _source: document.source,
      },
    };
  }

  private bulk(context: RequestContext, pathIndex: string | undefined): Reply {
    if (context.method !== 'POST' && context.method !== 'PUT') {
      throw illegalArgument(
        `Incorrect HTTP method for uri [/_bulk] and method [${context.method}], allowed: [POST, PUT]`,
      );
    }
    const started = Date.now();
    const operations = parseBulkBody(context.bodyText, pathIndex);
    Object.assign(context.record, { items: operations.length });
    const items = operations.map((operation) => ({ [operation.action]: this.executeWithFaults(operation) }));
    this.applyRefresh(
      context.query,
      operations.map((operation) => operation.index),
    );
    return {
      status: 200,
      body: {
        took: Date.now() - started,
        errors: items.some((item) => Object.values(item).some((result) => result.status >= 300)),
        items,
      },
    };
  }

  private executeWithFaults(operation: BulkOperation): BulkItemResult {
    const reject = this.faults.rejectItems;
    if (
      reject !== undefined &&
      globMatches(reject.index, operation.index) &&
      (reject.ids === undefined || reject.ids.has(operation.id))
    ) {
      const key = `${operation.index}\u0000${operation.id}`;
      const attempt = (this.itemAttempts.get(key) ?? 0) + 1;
      this.itemAttempts.set(key, attempt);
      if (attempt <= reject.attempts) {
        return {
          _index: operation.index,
          _id: operation.id,
          status: 429,
          error: cause(
            'rejected_execution_exception',
            'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1, max_coordinating_and_primary_bytes=0]',
          ),
        };
      }
    }
    return this.store.execute(operation);
  }

  private applyRefresh(query: Readonly<Record<string, string>>, indexNames: readonly string[]): void {
    const refresh = query.refresh;
    if (refresh === undefined || refresh === 'false') return;
    const indices = [...new Set(indexNames)]
      .map((name) => this.store.indices.get(name))
      .filter((index): index is IndexState => index !== undefined);
    this.store.refresh(indices);
  }

  private refresh(expression: string | undefined): Reply {
    const indices = this.store.resolveIndices(expression);
    this.store.refresh(indices);
    return { status: 200, body: { _shards: shardCounts(indices) } };
  }

  private matchingDocuments(context: RequestContext, expression: string | undefined) {
    const body = context.bodyText.trim() === '' ? {} : parseJsonBody(context.bodyText);
    if (!isObject(body)) throw illegalArgument('request body must be an object');
    const indices = this.store.resolveIndices(expression);
    const now = Date.now();
    const hits: { index: IndexState; id: string; source: JsonObject }[] = [];
    for (const index of indices) {
      const matches = compileQuery(body.query, index.mappings);
      for (const [id, document] of this.store.visibleDocuments(index, now)) {
        if (matches({ id, source: document.source })) hits.push({ index, id, source: document.source });
      }
    }
    return { body, indices, hits };
  }

  private count(context: RequestContext, expression: string | undefined): Reply {
    const { indices, hits } = this.matchingDocuments(context, expression);
    return { status: 200, body: { count: hits.length, _shards: shardCounts(indices) } };
  }

  private search(context: RequestContext, expression: string | undefined): Reply {
    const started = Date.now();
    const { body, indices, hits } = this.matchingDocuments(context, expression);
    const size = Number(context.query.size ?? body.size ?? 10);
    const from = Number(context.query.from ?? body.from ?? 0);
    const sort = sortKeys(body.sort);
    if (sort.length > 0) {
      hits.sort((a, b) => {
        for (const { field, descending } of sort) {
          const order = compareSortValues(sortValue(a, field), sortValue(b, field));
          if (order !== 0) return descending ? -order : order;
        }
        return 0;
      });
    }
    const page = hits.slice(from, from + size);
    return {
      status: 200,
      body: {
        took: Date.now() - started,
        timed_out: false,
        _shards: { ...shardCounts(indices), skipped: 0 },
        hits: {
          total: { value: hits.length, relation: 'eq' },
          max_score: page.length > 0 && sort.length === 0 ? 1 : null,
          hits: page.map((hit) => ({
            _index: hit.index.name,
            _id: hit.id,
            _score: sort.length === 0 ? 1 : null,
            _source: hit.source,
            ...(sort.length > 0 && { sort: sort.map(({ field }) => sortValue(hit, field) ?? null) }),
          })),
        },
      },
    };
  }

  private catIndices(context: RequestContext, expression: string | undefined): Reply {
    const rows = this.store.resolveIndices(expression).map((index) => {
      const bytes = [...index.documents.values()].reduce((total, document) => total + document.bytes, 0);
      return {
        health: this.indexHealth(index),
        status: 'open',
        index: index.name,
        uuid: index.uuid,
        pri: index.settings.get('index.number_of_shards') ?? '1',
        rep: index.settings.get('index.number_of_replicas') ?? '1',
        'docs.count': String(index.documents.size),
        'docs.deleted': '0',
        'store.size': context.query.bytes === 'b' ? String(bytes) : humanBytes(bytes),
        'pri.store.size': context.query.bytes === 'b' ? String(bytes) : humanBytes(bytes),
      };
    });
    if (context.query.format === 'json') return { status: 200, body: rows };
    const text = rows.map((row) => `${Object.values(row).join(' ')}\n`).join('');
    return { status: 200, text, contentType: 'text/plain; charset=UTF-8' };
  }

  private indexHealth(index: IndexState): 'green' | 'yellow' {
    return Number(index.settings.get('index.number_of_replicas') ?? 1) > this.options.nodes - 1
      ? 'yellow'
      : 'green';
  }

  private health(): JsonObject {
    const indices = [...this.store.indices.values()];
    const computed = indices.some((index) => this.indexHealth(index) === 'yellow') ? 'yellow' : 'green';
    const primaries = indices.reduce(
      (total, index) => total + Number(index.settings.get('index.number_of_shards') ?? 1),
      0,
    );
    const unassigned = indices
      .filter((index) => this.indexHealth(index) === 'yellow')
      .reduce((total, index) => total + Number(index.settings.get('index.number_of_replicas') ?? 1), 0);
    return {
      cluster_name: 'opensearch-test',
      status: this.faults.clusterStatus ?? computed,
      timed_out: false,
      number_of_nodes: this.options.nodes,
      number_of_data_nodes: this.options.nodes,
      discovered_master: true,
      discovered_cluster_manager: true,
      active_primary_shards: primaries,
      active_shards: primaries,
      relocating_shards: 0,
      initializing_shards: 0,
      unassigned_shards: unassigned,
      delayed_unassigned_shards: 0,
      number_of_pending_tasks: 0,
      number_of_in_flight_fetch: 0,
      task_max_waiting_in_queue_millis: 0,
      active_shards_percent_as_number:
        primaries + unassigned === 0 ? 100 : (100 * primaries) / (primaries + unassigned),
    };
  }

  private send(response: ServerResponse, method: string, reply: Reply): void {
    if (reply.text !== undefined) {
      response.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=UTF-8' });
      response.end(method === 'HEAD' ? undefined : reply.text);
      return;
    }
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    response.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(method === 'HEAD' ? undefined : body);
  }
}

/** Parses a bulk NDJSON body into operations; a malformed request fails as a whole, like OpenSearch. */
function parseBulkBody(text: string, pathIndex: string | undefined): BulkOperation[] {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw illegalArgument('The bulk request must be terminated by a newline [\\n]');
  }
  const lines = text.split('\n');
  const operations: BulkOperation[] = [];
  const problems: string[] = [];
  for (let lineNumber = 0; lineNumber < lines.length; lineNumber += 1) {
    const line = lines[lineNumber] ?? '';
    if (line.trim() === '') continue;
    let actionLine: unknown;
    try {
      actionLine = JSON.parse(line);
    } catch {
      throw illegalArgument(`Malformed action/metadata line [${lineNumber + 1}], expected START_OBJECT`);
    }
    const [entry] = isObject(actionLine) ? Object.entries(actionLine) : [];
    const action = entry?.[0];
    if (action !== 'index' && action !== 'create' && action !== 'update' && action !== 'delete') {
      throw illegalArgument(
        `Malformed action/metadata line [${lineNumber + 1}], expected field [create], [delete], [index] or [update] but found [${String(action)}]`,
      );
    }
    const metadata = isObject(entry?.[1]) ? entry[1] : {};
    const index = typeof metadata._index === 'string' ? metadata._index : pathIndex;
    let id = typeof metadata._id === 'string' ? metadata._id : undefined;
    if (index === undefined) problems.push('index is missing');
    if (id === undefined && (action === 'delete' || action === 'update')) problems.push('id is missing');
    id ??= generateDocumentId();
    if (Buffer.byteLength(id) > 512) {
      problems.push(
        `id [${id}] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(id)}`,
      );
    }
    if (action === 'delete') {
      operations.push({ action, index: index ?? '', id });
      continue;
    }
    lineNumber += 1;
    const sourceText = lines[lineNumber];
    if (sourceText === undefined || lineNumber === lines.length - 1) {
      throw illegalArgument('The bulk request must be terminated by a newline [\\n]');
    }
    operations.push({ action, index: index ?? '', id, sourceText });
  }
  if (problems.length > 0) {
    const list = problems.map((problem, position) => `${position + 1}: ${problem};`).join('');
    throw new OpenSearchHttpError(
      400,
      cause('action_request_validation_exception', `Validation Failed: ${list}`),
    );
  }
  return operations;
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error: unknown) {
    throw new OpenSearchHttpError(
      400,
      cause('json_parse_exception', error instanceof Error ? error.message : String(error)),
    );
  }
}

/** A single-document API answers with the bulk item's body, or the error envelope when it failed. */
function itemAsReply(item: BulkItemResult): Reply {
  const error = item.error;
  if (!isObject(error)) return { status: item.status, body: item };
  return {
    status: item.status,
    body: new OpenSearchHttpError(item.status, error as OpenSearchErrorCause).toBody(),
  };
}

function errorReply(error: unknown): Reply {
  if (error instanceof OpenSearchHttpError) return { status: error.status, body: error.toBody() };
  const reason = error instanceof Error ? error.message : String(error);
  return { status: 500, body: new OpenSearchHttpError(500, cause('exception', reason)).toBody() };
}

function shardCounts(indices: readonly IndexState[]): JsonObject {
  const total = indices.reduce(
    (sum, index) => sum + Number(index.settings.get('index.number_of_shards') ?? 1),
    0,
  );
  return { total, successful: total, failed: 0 };
}

function sortKeys(sort: unknown): { field: string; descending: boolean }[] {
  if (sort === undefined) return [];
  return (Array.isArray(sort) ? sort : [sort]).flatMap((entry) => {
    if (typeof entry === 'string') return [{ field: entry, descending: false }];
    if (!isObject(entry)) return [];
    return Object.entries(entry).map(([field, order]) => ({
      field,
      descending: (isObject(order) ? order.order : order) === 'desc',
    }));
  });
}

function sortValue(
  hit: { index: IndexState; id: string; source: JsonObject },
  field: string,
): number | string | undefined {
  if (field === '_id') return hit.id;
  const { sourcePath, type } = resolveField(hit.index.mappings, field);
  const [value] = valuesAt(hit.source, sourcePath);
  return value === undefined ? undefined : toSortable(value, type);
}

function compareSortValues(a: number | string | undefined, b: number | string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}b`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}kb`;
  return `${(bytes / 1024 / 1024).toFixed(1)}mb`;
}

function versionAtLeast(version: string, minimum: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** A delay that does not keep the process alive (a stopped server's pending slow responses). */
function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds).unref());
}

/** Where the OpenSearch tests run: a real cluster (`OPENSEARCH_URL`) or a fresh test server. */
export interface OpenSearchTarget {
  readonly url: string;
  /** How to reach it, for `createOpenSearchClient` (auth from `OPENSEARCH_AUTH`; `none` for the test server). */
  readonly connection: OpenSearchConnection;
  /** The test server, when the tests run against it; undefined on a real cluster (no fault injection). */
  readonly server?: OpenSearchTestServer;
  /** Stops the test server; nothing to do on a real cluster. */
  close(): Promise<void>;
}

/**
 * The target of an OpenSearch test file: the cluster at `OPENSEARCH_URL` when set (with
 * `OPENSEARCH_AUTH`, `OPENSEARCH_USERNAME`, `OPENSEARCH_PASSWORD`), otherwise a new test server.
 */
export async function openSearchTarget(options: OpenSearchTestServerOptions = {}): Promise<OpenSearchTarget> {
  const url = process.env.OPENSEARCH_URL;
  if (url !== undefined && url !== '') {
    const auth = process.env.OPENSEARCH_AUTH;
    const username = process.env.OPENSEARCH_USERNAME;
    const password = process.env.OPENSEARCH_PASSWORD;
    return {
      url,
      connection: {
        endpoint: url,
        auth:
          auth === 'sigv4' || auth === 'basic' || auth === 'none'
            ? auth
            : username !== undefined
              ? 'basic'
              : 'none',
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password }),
      },
      close: async () => {},
    };
  }
  const server = await OpenSearchTestServer.start(options);
  return {
    url: server.url,
    connection: { endpoint: server.url, auth: 'none' },
    server,
    close: () => server.stop(),
  };
}

/** Deletes the indices and index templates a test created under `prefix` (`<prefix>-*`). */
export async function deleteTestIndices(client: Client, prefix: string): Promise<void> {
  await client.transport.request({ method: 'DELETE', path: `/${prefix}-*` }, { ignore: [404] });
  await client.transport.request(
    { method: 'DELETE', path: `/_index_template/${prefix}-*` },
    { ignore: [404] },
  );
}

/**
 * Registers Jest hooks that open an {@link openSearchTarget} and a client before the file's tests,
 * and afterwards delete the indices and templates named `<prefix>-*` and close both. Read the
 * returned object's members inside tests (they are set in `beforeAll`).
 */
export function useOpenSearchTarget(
  prefix: string,
  options: OpenSearchTestServerOptions = {},
): { readonly target: OpenSearchTarget; readonly client: Client } {
  let target: OpenSearchTarget | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    target = await openSearchTarget(options);
    client = createOpenSearchClient(target.connection);
  });
  afterAll(async () => {
    if (client !== undefined) {
      await client.transport.request({ method: 'DELETE', path: `/${prefix}-*` }, { ignore: [404] });
      await client.transport.request(
        { method: 'DELETE', path: `/_index_template/${prefix}-*` },
        { ignore: [404] },
      );
      await client.close();
    }
    await target?.close();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the OpenSearch target is opened in beforeAll: use it inside tests');
    return value;
  };
  return {
    get target() {
      return ready(target);
    },
    get client() {
      return ready(client);
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9200' },
      version: { type: 'string', default: DEFAULT_VERSION },
      'refresh-interval-ms': { type: 'string', default: '1000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npx tsx test/support/opensearch-server.ts [--port 9200] [--version 2.19.1] [--refresh-interval-ms 1000]\n',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port: not a port: ${values.port}`);
  const server = await OpenSearchTestServer.start({
    port,
    version: values.version,
    refreshIntervalMs: Number(values['refresh-interval-ms']),
  });
  process.stdout.write(`OpenSearch test server ${values.version} listening on ${server.url}\n`);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
