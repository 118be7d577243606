import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BulkBatcher, type BulkBody, type BulkDocument } from '../../lambdas/core/bulk';
import { loadIndexerConfig } from '../../lambdas/indexer/config';
import {
  bulkFileName,
  FileBulkSink,
  fileEndpointDirectory,
  INDEX_TEMPLATE_DIRECTORY,
} from '../../lambdas/shared/file-bulk-sink';
import { buildIndexTemplates } from '../../lambdas/shared/opensearch/index-templates';
import { InMemoryQuarantine } from '../../lambdas/shared/quarantine';

function document(index: string, id: string, message: string, recordNumber = 1): BulkDocument {
  return { index, id, source: JSON.stringify({ message }), recordNumber, raw: message };
}

/** One bulk body of `documents`, built by the core's batcher as the indexer builds it. */
function bodyOf(...documents: readonly BulkDocument[]): BulkBody {
  const batcher = new BulkBatcher();
  for (const next of documents) batcher.add(next);
  const body = batcher.flush();
  if (body === undefined) throw new Error('no documents');
  return body;
}

const options = () => ({ deadline: Date.now() + 60_000, quarantine: new InMemoryQuarantine() });

describe('FileBulkSink', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'file-bulk-sink-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes each body, byte for byte, to a file named after its first document, and counts every document indexed', async () => {
    // Prepare
    const bodies = [
      bodyOf(
        document('logs-alb-2024.03.01', 'abc-1', 'first'),
        document('logs-alb-2024.03.01', 'abc-2', 'second', 2),
      ),
      bodyOf(document('logs-waf-2024.03.02', 'def-1', 'ünïcödé')),
    ];
    const sink = new FileBulkSink(path.join(directory, 'bulk'));

    // Act
    const result = await sink.bulkIndex(bodies, options());

    // Assess
    expect(result).toEqual({ indexed: 3, duplicates: 0, quarantined: 0, retried: 0, requests: 2 });
    expect((await readdir(path.join(directory, 'bulk'))).sort()).toEqual([
      'logs-alb-2024.03.01_abc-1.ndjson',
      'logs-waf-2024.03.02_def-1.ndjson',
    ]);
    for (const body of bodies) {
      const written = await readFile(path.join(directory, 'bulk', bulkFileName(body)), 'utf8');
      expect(written).toBe(body.body);
    }
  });

  it('overwrites on a replay instead of appending, so the same input leaves the same files', async () => {
    // Prepare
    const bodies = [bodyOf(document('logs-json-2024.03.01', 'id-1', 'once'))];
    const sink = new FileBulkSink(directory);
    await sink.bulkIndex(bodies, options());
    const [name] = await readdir(directory);
    const first = await readFile(path.join(directory, String(name)), 'utf8');

    // Act
    await sink.bulkIndex(bodies, options());

    // Assess
    expect(await readdir(directory)).toEqual([name]);
    expect(await readFile(path.join(directory, String(name)), 'utf8')).toBe(first);
  });

  it('takes bodies from an async iterable, as the indexer produces them', async () => {
    // Prepare
    const bodies = [1, 3, 5].map((first) =>
      bodyOf(
        document('logs-json-2024.03.01', `n-${first}`, 'a'),
        document('logs-json-2024.03.01', `n-${first + 1}`, 'b'),
      ),
    );
    const pulled: number[] = [];
    async function* produce() {
      for (const [position, body] of bodies.entries()) {
        pulled.push(position);
        yield body;
      }
    }

    // Act
    const result = await new FileBulkSink(directory).bulkIndex(produce(), options());

    // Assess
    expect(pulled).toEqual([0, 1, 2]);
    expect(result.indexed).toBe(6);
    expect((await readdir(directory)).length).toBe(3);
  });

  it('hashes a first id that is not safe in a file name, and never writes outside the directory', async () => {
    // Prepare
    const unsafe = [bodyOf(document('logs-cloudtrail-2024.03.01', '../../escape/id', 'x'))];
    const sink = new FileBulkSink(path.join(directory, 'bulk'));

    // Act
    await sink.bulkIndex(unsafe, options());

    // Assess
    const [name] = await readdir(path.join(directory, 'bulk'));
    expect(name).toMatch(/^[0-9a-f]{32}\.ndjson$/);
    expect(await readdir(directory)).toEqual(['bulk']);
    expect(bulkFileName(unsafe[0] as BulkBody)).toBe(name);
  });

  it('reports the file system error when the directory cannot be created, writing nothing', async () => {
    // Prepare
    const blocker = path.join(directory, 'not-a-directory');
    await writeFile(blocker, 'a file where the directory should be');
    const sink = new FileBulkSink(path.join(blocker, 'bulk'));

    // Act
    const attempt = sink.bulkIndex([bodyOf(document('logs-json-2024.03.01', 'a', 'b'))], options());

    // Assess
    await expect(attempt).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(await readdir(directory)).toEqual(['not-a-directory']);
  });

  it('writes every index template body the indexer would install, under _index_template/<name>.json', async () => {
    // Prepare
    const sink = new FileBulkSink(directory);
    const expected = buildIndexTemplates({ prefix: 'demo', freeForm: 'disabled' });

    // Act
    const result = await sink.writeIndexTemplates({ prefix: 'demo' });

    // Assess
    expect(result).toEqual({ freeForm: 'disabled', written: expected.map((template) => template.name) });
    for (const template of expected) {
      const file = path.join(directory, INDEX_TEMPLATE_DIRECTORY, `${template.name}.json`);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(template.body);
    }
  });

  it('writes flat_object templates when asked', async () => {
    // Act
    await new FileBulkSink(directory).writeIndexTemplates({ prefix: 'demo', freeForm: 'flat_object' });

    // Assess
    const waf = JSON.parse(
      await readFile(path.join(directory, INDEX_TEMPLATE_DIRECTORY, 'demo-waf.json'), 'utf8'),
    ) as { template: { mappings: { properties: Record<string, unknown> } } };
    expect(waf.template.mappings.properties.ruleGroupList).toEqual({ type: 'flat_object' });
  });
});

describe('fileEndpointDirectory', () => {
  it.each([
    ['file:///var/tmp/bulk', '/var/tmp/bulk'],
    ['file:///var/tmp/with%20space', '/var/tmp/with space'],
    ['file://localhost/var/tmp/bulk', '/var/tmp/bulk'],
    ['file:/var/tmp/bulk', '/var/tmp/bulk'],
    ['file:./out/bulk', '/work/repo/out/bulk'],
    ['file:out/bulk', '/work/repo/out/bulk'],
  ])('reads %j as the directory %j', (endpoint, expected) => {
    expect(fileEndpointDirectory(endpoint, '/work/repo')).toBe(expected);
  });

  it.each(['file:', 'file://remote-host/share', 'https://search.example.com', 'files:/x'])(
    'refuses %j',
    (endpoint) => {
      expect(fileEndpointDirectory(endpoint, '/work/repo')).toBeUndefined();
    },
  );
});

describe('the indexer configuration with a file: OPENSEARCH_ENDPOINT', () => {
  const base = { QUARANTINE_BUCKET: 'quarantine-bucket' };

  it('selects the file sink directory and ignores the auth settings', () => {
    // Act
    const config = loadIndexerConfig({
      ...base,
      OPENSEARCH_ENDPOINT: 'file:///var/tmp/bulk',
      OPENSEARCH_AUTH: 'basic',
    });

    // Assess
    expect(config.bulkFileDirectory).toBe('/var/tmp/bulk');
  });

  it('leaves an http(s) endpoint to the cluster', () => {
    // Act
    const config = loadIndexerConfig({ ...base, OPENSEARCH_ENDPOINT: 'https://search.example.com' });

    // Assess
    expect(config.bulkFileDirectory).toBeUndefined();
    expect(config.opensearch.endpoint).toBe('https://search.example.com');
  });

  it('refuses a file: endpoint that names no local directory, saying what is accepted', () => {
    expect(() => loadIndexerConfig({ ...base, OPENSEARCH_ENDPOINT: 'file://remote-host/share' })).toThrow(
      /OPENSEARCH_ENDPOINT: must be an http\(s\) URL, or file:DIR/,
    );
  });
});
