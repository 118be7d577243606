/**
 * The OpenSearch test server speaks OpenSearch's wire formats: checked here with plain HTTP, the
 * way a client sees it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { OpenSearchTestServer } from './opensearch-server';

interface HttpResult {
  readonly status: number;
  readonly body: unknown;
}

let server: OpenSearchTestServer;

beforeAll(async () => {
  server = await OpenSearchTestServer.start({ refreshIntervalMs: 60_000 });
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  server.reset();
});

async function call(method: string, path: string, body?: unknown): Promise<HttpResult> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body !== undefined && {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json' },
    }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function ndjson(lines: readonly unknown[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

type BulkItems = { items: Record<string, { status: number; result?: string; error?: { type: string } }>[] };

function itemsOf(result: HttpResult): { status: number; result?: string; errorType?: string }[] {
  return (result.body as BulkItems).items.map((item) => {
    const [outcome] = Object.values(item);
    return {
      status: outcome?.status ?? 0,
      ...(outcome?.result !== undefined && { result: outcome.result }),
      ...(outcome?.error !== undefined && { errorType: outcome.error.type }),
    };
  });
}

describe('bulk', () => {
  it('answers each item with its own status, and 409 for a create of an existing id', async () => {
    // Prepare
    const body = ndjson([
      { create: { _index: 'logs-alb-2024.05.01', _id: 'a' } },
      { message: 'first' },
      { create: { _index: 'logs-alb-2024.05.01', _id: 'b' } },
      { message: 'second' },
      { create: { _index: 'logs-alb-2024.05.01', _id: 'a' } },
      { message: 'first again' },
      { index: { _index: 'logs-alb-2024.05.01', _id: 'b' } },
      { message: 'second, replaced' },
      { delete: { _index: 'logs-alb-2024.05.01', _id: 'missing' } },
    ]);

    // Act
    const response = await call('POST', '/_bulk', body);

    // Assess
    expect(response.status).toBe(200);
    expect((response.body as { errors: boolean }).errors).toBe(true);
    expect(itemsOf(response)).toEqual([
      { status: 201, result: 'created' },
      { status: 201, result: 'created' },
      { status: 409, errorType: 'version_conflict_engine_exception' },
      { status: 200, result: 'updated' },
      { status: 404, result: 'not_found' },
    ]);
    const stored = await call('GET', '/logs-alb-2024.05.01/_doc/b');
    expect(stored.body).toMatchObject({ found: true, _version: 2, _source: { message: 'second, replaced' } });
  });

  it('takes the index from the path and refuses a body without a final newline', async () => {
    // Prepare
    const body = ndjson([{ create: { _id: 'x' } }, { n: 1 }]);

    // Act
    const accepted = await call('POST', '/logs-json-2024.05.01/_bulk', body);
    const refused = await call('POST', '/_bulk', body.slice(0, -1));

    // Assess
    expect(itemsOf(accepted)).toEqual([{ status: 201, result: 'created' }]);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { type: 'illegal_argument_exception' }, status: 400 });
  });

  it('answers with what filter_path reaches only, errors included, as OpenSearch does', async () => {
    // Prepare
    const body = ndjson([
      { create: { _index: 'logs-alb-2024.05.02', _id: 'a' } },
      { message: 'first' },
      { create: { _index: 'logs-alb-2024.05.02', _id: 'a' } },
      { message: 'again' },
    ]);
    const filter = 'items.*.status,items.*.error.type,error,status';

    // Act
    const filtered = await call('POST', `/_bulk?filter_path=${encodeURIComponent(filter)}`, body);
    const refused = await call('POST', `/_bulk?filter_path=${encodeURIComponent(filter)}`, body.slice(0, -1));
    const nothing = await call('GET', '/_cluster/health?filter_path=no.such.member');
    const globbed = await call('GET', '/_cluster/health?filter_path=clu*,*_shards');

    // Assess
    expect(filtered.body).toEqual({
      items: [
        { create: { status: 201 } },
        { create: { status: 409, error: { type: 'version_conflict_engine_exception' } } },
      ],
    });
    expect(refused.body).toEqual({
      error: expect.objectContaining({ type: 'illegal_argument_exception' }),
      status: 400,
    });
    expect(nothing.body).toEqual({});
    const health = Object.keys((await call('GET', '/_cluster/health')).body as object);
    const expected = health.filter((key) => key.startsWith('clu') || key.endsWith('_shards'));
    expect(expected.length).toBeGreaterThan(1);
    expect(Object.keys(globbed.body as object).sort()).toEqual(expected.sort());
  });

  it('keeps ids and counts without sources (storeSources: false), and skips mapping (mapDocuments: false)', async () => {
    // Prepare: the second document's `n` conflicts with the first's.
    const body = ndjson([
      { create: { _index: 'lean-1', _id: 'a' } },
      { n: 1 },
      { create: { _index: 'lean-1', _id: 'b' } },
      { n: 'not a number' },
      { create: { _index: 'lean-1', _id: 'a' } },
      { n: 1 },
    ]);
    const lean = await OpenSearchTestServer.start({ storeSources: false });
    const counting = await OpenSearchTestServer.start({ storeSources: false, mapDocuments: false });
    const send = async (target: OpenSearchTestServer) => {
      const response = await fetch(`${target.url}/_bulk?refresh=true`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      const document = await fetch(`${target.url}/lean-1/_doc/a`);
      const count = await fetch(`${target.url}/lean-1/_count`);
      return {
        statuses: itemsOf({ status: response.status, body: await response.json() }).map(
          (item) => item.status,
        ),
        document: (await document.json()) as { _source?: unknown },
        count: ((await count.json()) as { count: number }).count,
      };
    };

    // Act
    const leanResult = await send(lean);
    const countingResult = await send(counting);
    await Promise.all([lean.stop(), counting.stop()]);

    // Assess
    expect(leanResult).toEqual({
      statuses: [201, 400, 409],
      document: expect.objectContaining({ _source: {} }),
      count: 1,
    });
    expect(countingResult).toEqual({
      statuses: [201, 201, 409],
      document: expect.objectContaining({ _source: {} }),
      count: 2,
    });
  });
});

describe('mappings', () => {
  it('types new indices from the highest-priority matching template and rejects incompatible values per item', async () => {
    // Prepare
    await call('PUT', '/_index_template/low', {
      index_patterns: ['logs-*'],
      priority: 1,
      template: { mappings: { properties: { client_ip: { type: 'keyword' } } } },
    });
    await call('PUT', '/_index_template/high', {
      index_patterns: ['logs-alb-*'],
      priority: 10,
      template: { mappings: { properties: { client_ip: { type: 'ip' }, status: { type: 'short' } } } },
    });
    const body = ndjson([
      { create: { _index: 'logs-alb-2024.05.02', _id: 'good' } },
      { client_ip: '192.0.2.1', status: 200 },
      { create: { _index: 'logs-alb-2024.05.02', _id: 'bad-ip' } },
      { client_ip: 'not-an-ip', status: 200 },
      { create: { _index: 'logs-alb-2024.05.02', _id: 'bad-status' } },
      { client_ip: '2001:db8::1', status: 70_000 },
    ]);

    // Act
    const response = await call('POST', '/_bulk', body);
    const mapping = await call('GET', '/logs-alb-2024.05.02/_mapping');

    // Assess
    expect(itemsOf(response)).toEqual([
      { status: 201, result: 'created' },
      { status: 400, errorType: 'mapper_parsing_exception' },
      { status: 400, errorType: 'mapper_parsing_exception' },
    ]);
    expect(mapping.body).toEqual({
      'logs-alb-2024.05.02': {
        mappings: { properties: { client_ip: { type: 'ip' }, status: { type: 'short' } } },
      },
    });
  });

  it('maps new fields dynamically as OpenSearch does, and the first type seen wins', async () => {
    // Prepare
    const body = ndjson([
      { create: { _index: 'dynamic', _id: '1' } },
      { count: 3, ratio: 0.5, ok: true, at: '2024-05-02T10:00:00Z', name: 'web-1', user: { id: 'u1' } },
      { create: { _index: 'dynamic', _id: '2' } },
      { count: 'three' },
      { create: { _index: 'dynamic', _id: '3' } },
      { user: 'flat' },
    ]);

    // Act
    const response = await call('POST', '/_bulk', body);
    const mapping = await call('GET', '/dynamic/_mapping');

    // Assess
    expect(itemsOf(response).map((item) => item.status)).toEqual([201, 400, 400]);
    expect(mapping.body).toEqual({
      dynamic: {
        mappings: {
          properties: {
            count: { type: 'long' },
            ratio: { type: 'float' },
            ok: { type: 'boolean' },
            at: { type: 'date' },
            name: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
            user: {
              properties: {
                id: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
              },
            },
          },
        },
      },
    });
  });

  it('lets flat_object and disabled objects take any shape', async () => {
    // Prepare
    await call('PUT', '/_index_template/free', {
      index_patterns: ['free-*'],
      template: {
        mappings: {
          properties: { params: { type: 'flat_object' }, details: { type: 'object', enabled: false } },
        },
      },
    });
    const body = ndjson([
      { create: { _index: 'free-1', _id: '1' } },
      { params: { a: 1 }, details: { b: { c: 'x' } } },
      { create: { _index: 'free-1', _id: '2' } },
      { params: { a: 'text' }, details: 'a string' },
    ]);

    // Act
    const response = await call('POST', '/_bulk', body);
    const mapping = await call('GET', '/free-1/_mapping');

    // Assess
    expect(itemsOf(response).map((item) => item.status)).toEqual([201, 201]);
    expect(mapping.body).toEqual({
      'free-1': {
        mappings: {
          properties: { params: { type: 'flat_object' }, details: { type: 'object', enabled: false } },
        },
      },
    });
  });

  it('refuses flat_object before OpenSearch 2.7', async () => {
    // Prepare
    const old = await OpenSearchTestServer.start({ version: '2.5.0' });
    const template = {
      index_patterns: ['x-*'],
      template: { mappings: { properties: { params: { type: 'flat_object' } } } },
    };

    // Act
    const response = await fetch(`${old.url}/_index_template/x`, {
      method: 'PUT',
      body: JSON.stringify(template),
      headers: { 'content-type': 'application/json' },
    });
    const body = (await response.json()) as { error: { type: string; reason: string } };
    await old.stop();

    // Assess
    expect(response.status).toBe(400);
    expect(body.error.type).toBe('mapper_parsing_exception');
    expect(body.error.reason).toBe('No handler for type [flat_object] declared on field [params]');
  });
});

describe('search', () => {
  it('shows documents to _count and _search after a refresh, and finds them by id and term', async () => {
    // Prepare
    await call(
      'POST',
      '/_bulk',
      ndjson([
        { create: { _index: 'logs-waf-2024.05.03', _id: 'w1' } },
        { action: 'BLOCK', uri: '/login' },
        { create: { _index: 'logs-waf-2024.05.04', _id: 'w2' } },
        { action: 'ALLOW', uri: '/' },
      ]),
    );

    // Act
    const beforeRefresh = await call('GET', '/logs-waf-*/_count');
    await call('POST', '/logs-waf-*/_refresh');
    const all = await call('POST', '/logs-waf-*/_count', { query: { match_all: {} } });
    const blocked = await call('POST', '/logs-waf-*/_count', {
      query: { term: { 'action.keyword': 'BLOCK' } },
    });
    const byId = await call('POST', '/logs-waf-*/_search', { query: { ids: { values: ['w2'] } }, size: 5 });

    // Assess
    expect(beforeRefresh.body).toMatchObject({ count: 0 });
    expect(all.body).toMatchObject({ count: 2 });
    expect(blocked.body).toMatchObject({ count: 1 });
    expect(byId.body).toMatchObject({
      hits: {
        total: { value: 1, relation: 'eq' },
        hits: [{ _index: 'logs-waf-2024.05.04', _id: 'w2', _source: { action: 'ALLOW', uri: '/' } }],
      },
    });
  });

  it('lists indices and deletes them by pattern', async () => {
    // Prepare
    await call(
      'POST',
      '/_bulk?refresh=true',
      ndjson([{ create: { _index: 'logs-x-1', _id: '1' } }, { a: 1 }]),
    );

    // Act
    const listed = await call('GET', '/_cat/indices?format=json');
    const deleted = await call('DELETE', '/logs-x-*');
    const missing = await call('GET', '/logs-x-1/_doc/1');

    // Assess
    expect(listed.body).toMatchObject([{ index: 'logs-x-1', 'docs.count': '1', status: 'open' }]);
    expect(deleted.body).toEqual({ acknowledged: true });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { type: 'index_not_found_exception' } });
  });
});

describe('faults', () => {
  const oneDocument = ndjson([{ create: { _index: 'faults', _id: 'f1' } }, { a: 1 }]);

  it('rejects matching items with 429 for their first attempts, then accepts them', async () => {
    // Prepare
    server.injectFaults({ rejectItems: { attempts: 2, ids: ['f1'] } });

    // Act
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      statuses.push(...itemsOf(await call('POST', '/_bulk', oneDocument)).map((item) => item.status));
    }

    // Assess
    expect(statuses).toEqual([429, 429, 201]);
    expect(server.bulkRequests).toHaveLength(3);
  });

  it('fails whole requests with the programmed status, then recovers; over HTTP too', async () => {
    // Prepare
    const programmed = await call('POST', '/_test/faults', { failRequests: { count: 2, status: 502 } });

    // Act
    const first = await fetch(`${server.url}/_bulk`, { method: 'POST', body: oneDocument });
    const second = await fetch(`${server.url}/_bulk`, { method: 'POST', body: oneDocument });
    const third = await call('POST', '/_bulk', oneDocument);

    // Assess
    expect(programmed.status).toBe(200);
    expect(first.status).toBe(502);
    expect(first.headers.get('content-type')).toBe('text/html');
    expect(second.status).toBe(502);
    expect(itemsOf(third)).toEqual([{ status: 201, result: 'created' }]);
  });

  it('delays responses and drops connections', async () => {
    // Prepare
    server.injectFaults({ delayMs: 300, dropConnections: 1 });

    // Act
    const dropped = await fetch(`${server.url}/`).then(
      () => 'answered',
      () => 'dropped',
    );
    const started = Date.now();
    const delayed = await call('GET', '/');
    const elapsed = Date.now() - started;

    // Assess
    expect(dropped).toBe('dropped');
    expect(delayed.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });

  it('refuses connections once stopped', async () => {
    // Prepare
    const doomed = await OpenSearchTestServer.start();
    const url = doomed.url;

    // Act
    await doomed.stop();
    const outcome = await fetch(`${url}/`).then(
      () => 'answered',
      (error: unknown) => String((error as { cause?: { code?: string } }).cause?.code),
    );

    // Assess
    expect(outcome).toBe('ECONNREFUSED');
  });
});

describe('standalone process', () => {
  it('starts with --port and answers GET /', async () => {
    // Prepare
    const child = spawn(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        path.join(__dirname, 'opensearch-server.ts'),
        '--port',
        '0',
        '--version',
        '2.11.0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });

    // Act
    const info = (await (await fetch(`${url}/`)).json()) as {
      version: { number: string; distribution: string };
    };
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');

    // Assess
    expect(info.version).toMatchObject({ number: '2.11.0', distribution: 'opensearch' });
    expect(await exited).toBe(0);
  });
});
