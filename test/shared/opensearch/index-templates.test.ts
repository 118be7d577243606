/**
 * The index templates: installed idempotently, typing the documents the real parsers produce, and
 * taking every document of the conformance corpus without a mapping conflict. Against the test
 * server by default, a real cluster when `OPENSEARCH_URL` is set.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BulkBatcher, type BulkBody } from '../../../lambdas/core/bulk';
import { parseObject } from '../../../lambdas/core/parse-object';
import type { FormatName } from '../../../lambdas/core/types';
import { OpenSearchBulkSink } from '../../../lambdas/shared/opensearch/bulk-sink';
import { createOpenSearchClient } from '../../../lambdas/shared/opensearch/client';
import {
  buildIndexTemplate,
  DOCUMENT_FIELDS,
  freeFormMappingFor,
} from '../../../lambdas/shared/opensearch/index-templates';
import { installIndexTemplates } from '../../../lambdas/shared/opensearch/install-templates';
import { InMemoryQuarantine } from '../../../lambdas/shared/quarantine';
import { CONFORMANCE_ROOT, loadConformance } from '../../support/conformance';
import { OpenSearchTestServer, useOpenSearchTarget } from '../../support/opensearch-server';

const PREFIX = `tpltest-${Date.now().toString(36)}`;
const TEMPLATE_COUNT = Object.keys(DOCUMENT_FIELDS).length;
const opensearch = useOpenSearchTarget(PREFIX);

async function installedTemplates(): Promise<unknown> {
  const response = await opensearch.client.transport.request({
    method: 'GET',
    path: `/_index_template/${PREFIX}-*`,
  });
  const templates = (response.body as { index_templates: { name: string }[] }).index_templates;
  return [...templates].sort((a, b) => a.name.localeCompare(b.name));
}

/** The mapped fields of every index matching `pattern`, merged. */
async function mappingsOf(pattern: string): Promise<Record<string, unknown>> {
  const response = await opensearch.client.transport.request({ method: 'GET', path: `/${pattern}/_mapping` });
  const indices = Object.values(
    response.body as Record<string, { mappings: { properties?: Record<string, unknown> } }>,
  );
  return Object.assign({}, ...indices.map((index) => index.mappings.properties ?? {}));
}

/** The conformance samples of a folder, with the options their peers parse them with. */
function conformanceSamples(folder: string): { file: string; fieldList?: string }[] {
  const { dir, rows } = loadConformance(folder);
  return [...new Set(rows.map((row) => row.file))].map((file) => {
    const sidecar = path.join(dir, `${file}.format`);
    return existsSync(sidecar) ? { file, fieldList: readFileSync(sidecar, 'utf8').trim() } : { file };
  });
}

/** Parses one sample with the real core and returns its documents as bulk bodies. */
async function bodiesOfSample(folder: string, file: string, fieldList?: string): Promise<BulkBody[]> {
  const bytes = readFileSync(path.join(CONFORMANCE_ROOT, folder, file));
  const parse = parseObject({
    body: (async function* () {
      yield bytes;
    })(),
    object: {
      bucket: 'conformance',
      key: `${folder}/${file}`,
      etag: 'e',
      lastModified: Date.UTC(2024, 0, 2),
    },
    format: folder as FormatName,
    indexPrefix: PREFIX,
    ...(fieldList !== undefined && { options: { fieldList } }),
  });
  const batcher = new BulkBatcher();
  const bodies: BulkBody[] = [];
  for await (const batch of parse) {
    for (const item of batch.items) {
      if (item.kind !== 'document') continue;
      const completed = batcher.add(item);
      if (completed?.kind === 'body') bodies.push(completed);
    }
  }
  const last = batcher.flush();
  if (last !== undefined) bodies.push(last);
  return bodies;
}

describe('installIndexTemplates', () => {
  it('installs every template once; a second install changes nothing', async () => {
    // Prepare
    opensearch.target.server?.clearRequests();

    // Act
    const first = await installIndexTemplates(opensearch.client, { prefix: PREFIX });
    const afterFirst = await installedTemplates();
    const second = await installIndexTemplates(opensearch.client, { prefix: PREFIX });
    const afterSecond = await installedTemplates();

    // Assess
    expect(first.written).toHaveLength(TEMPLATE_COUNT);
    expect(first.unchanged).toEqual([]);
    expect(second.written).toEqual([]);
    expect(second.unchanged).toHaveLength(TEMPLATE_COUNT);
    expect(afterSecond).toEqual(afterFirst);
    if (opensearch.target.server !== undefined) {
      const puts = opensearch.target.server.requests.filter((request) => request.method === 'PUT');
      expect(puts).toHaveLength(TEMPLATE_COUNT);
    }
  });

  it('replaces only a template whose definition changed', async () => {
    // Prepare
    await installIndexTemplates(opensearch.client, { prefix: PREFIX });
    const changed = buildIndexTemplate('alb', { prefix: PREFIX, freeForm: 'disabled', shards: 3 });
    await opensearch.client.transport.request({
      method: 'PUT',
      path: `/_index_template/${changed.name}`,
      body: changed.body,
    });

    // Act
    const result = await installIndexTemplates(opensearch.client, { prefix: PREFIX });

    // Assess
    expect(result.written).toEqual([`${PREFIX}-alb`]);
    expect(result.unchanged).toHaveLength(TEMPLATE_COUNT - 1);
  });

  it('takes every conformance sample without a mapping conflict, and types its fields', async () => {
    // Prepare
    await installIndexTemplates(opensearch.client, { prefix: PREFIX });
    const folders = readdirSync(CONFORMANCE_ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const sink = new OpenSearchBulkSink(opensearch.client, { refresh: 'true' });
    const quarantine = new InMemoryQuarantine();
    let indexed = 0;

    // Act
    for (const folder of folders) {
      for (const { file, fieldList } of conformanceSamples(folder)) {
        const result = await sink.bulkIndex(await bodiesOfSample(folder, file, fieldList), {
          deadline: Date.now() + 60_000,
          quarantine,
        });
        indexed += result.indexed + result.duplicates;
      }
    }

    // Assess
    expect(quarantine.entries).toEqual([]);
    expect(indexed).toBeGreaterThan(150);
    const alb = await mappingsOf(`${PREFIX}-alb-*`);
    expect(alb).toMatchObject({
      '@timestamp': { type: 'date' },
      client_ip: { type: 'ip' },
      elb_status_code: { type: 'short' },
      user_agent: { type: 'keyword', fields: { text: { type: 'text' } } },
      log: { properties: { type: { type: 'keyword' }, line: { type: 'long' } } },
    });
    const cloudtrail = await mappingsOf(`${PREFIX}-cloudtrail-*`);
    expect(cloudtrail).toMatchObject({
      sourceIPAddress: { type: 'keyword', fields: { ip: { type: 'ip' } } },
      eventName: { type: 'keyword' },
    });
    expect(['flat_object', 'object']).toContain((cloudtrail.requestParameters as { type: string }).type);
    expect(await mappingsOf(`${PREFIX}-vpcflow-*`)).toMatchObject({
      srcaddr: { type: 'ip' },
      bytes: { type: 'long' },
    });
    expect(await mappingsOf(`${PREFIX}-waf-*`)).toMatchObject({
      httpRequest: { properties: { clientIp: { type: 'ip' } } },
    });
  });
});

describe('free-form subtrees', () => {
  it('are flat_object from OpenSearch 2.17 and disabled objects before', async () => {
    // Prepare
    const older = await OpenSearchTestServer.start({ version: '2.11.0' });
    const olderClient = createOpenSearchClient({ endpoint: older.url, auth: 'none' });

    // Act
    const onOlder = await installIndexTemplates(olderClient, { prefix: 'logs' });
    const installed = await olderClient.transport.request({
      method: 'GET',
      path: '/_index_template/logs-cloudtrail',
    });
    await olderClient.close();
    await older.stop();

    // Assess
    expect(onOlder.freeForm).toBe('disabled');
    expect(installed.body).toMatchObject({
      index_templates: [
        {
          index_template: {
            template: { mappings: { properties: { requestParameters: { type: 'object', enabled: false } } } },
          },
        },
      ],
    });
    expect(freeFormMappingFor({ version: { distribution: 'opensearch', number: '2.17.0' } })).toBe(
      'flat_object',
    );
    expect(freeFormMappingFor({ version: { distribution: 'opensearch', number: '2.16.1' } })).toBe(
      'disabled',
    );
    expect(freeFormMappingFor({ version: { number: '7.10.2' } })).toBe('disabled');
  });
});
