/**
 * The real indexer handler, end to end: fauxqs (S3 + SQS over HTTP), the SQS event source
 * stand-in, and OpenSearch (the cluster at OPENSEARCH_URL, else the project's test server).
 */
import { gzipSync } from 'node:zlib';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { drainThroughHandler, type SqsBatchHandler } from '../../bin/cli/sqs-event-source';
import { notificationBody } from '../../lambdas/shared/s3-notifications';
import { type FauxqsHarness, startFauxqs } from '../support/fauxqs';
import { useOpenSearchTarget } from '../support/opensearch-server';

const PREFIX = 'itest';
const opensearch = useOpenSearchTarget(PREFIX);
let fauxqs: FauxqsHarness;
let handler: SqsBatchHandler;
let logBucket: string;
let quarantineBucket: string;
let queue: { queueUrl: string; queueArn: string; dlqUrl: string };

function albLine(second: number, path: string): string {
  const time = `2024-03-0${1 + (second % 2)}T10:00:${String(second % 60).padStart(2, '0')}.000000Z`;
  return (
    `https 2024-03-01T10:00:00.000000Z app/my-lb/50dc6c495c0c9188 192.0.2.${second % 250}:${40000 + second} ` +
    `10.0.0.1:80 0.001 0.002 0.000 200 200 100 ${200 + second} "GET https://example.com:443/${path} HTTP/1.1" ` +
    `"curl/8.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1 ` +
    `"Root=1-58337262-36d228ad5d99923122bbe354" "example.com" "-" 0 ${time} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"`
  );
}

function albKey(name: string): string {
  return `AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/03/01/123456789012_elasticloadbalancing_us-east-1_app.my-lb.50dc6c495c0c9188_20240301T1000Z_192.0.2.1_${name}.log.gz`;
}

async function putAndNotify(key: string, body: string | Uint8Array): Promise<string> {
  const etag = await fauxqs.putObject(logBucket, key, body);
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  const message = notificationBody(
    { bucket: logBucket, key, size, etag, lastModified: Date.now() },
    { region: 'us-east-1' },
  );
  const sent = await fauxqs.sqs.send(
    new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: message }),
  );
  return sent.MessageId ?? '';
}

async function send(body: string): Promise<string> {
  const sent = await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  return sent.MessageId ?? '';
}

async function drain(): Promise<{ failed: string[] }> {
  const failed: string[] = [];
  await drainThroughHandler({
    sqs: fauxqs.sqs,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    handler,
    idleMs: 300,
    onInvocation: (report) => failed.push(...report.failedMessageIds),
  });
  return { failed };
}

async function count(index: string): Promise<number> {
  await opensearch.client.indices.refresh({ index });
  const response = await opensearch.client.count({ index });
  return Number(response.body.count);
}

beforeAll(async () => {
  fauxqs = await startFauxqs();
  logBucket = await fauxqs.createBucket();
  quarantineBucket = await fauxqs.createBucket();
  queue = await fauxqs.createQueueWithDlq(undefined, { maxReceiveCount: 2 });
  Object.assign(process.env, fauxqs.env, {
    OPENSEARCH_ENDPOINT: opensearch.target.url,
    OPENSEARCH_AUTH: opensearch.target.connection.auth ?? 'none',
    ...(opensearch.target.connection.username !== undefined && {
      OPENSEARCH_USERNAME: opensearch.target.connection.username,
    }),
    ...(opensearch.target.connection.password !== undefined && {
      OPENSEARCH_PASSWORD: opensearch.target.connection.password,
    }),
    INDEX_PREFIX: PREFIX,
    QUARANTINE_BUCKET: quarantineBucket,
    QUARANTINE_PREFIX: 'quarantine/',
    CONTINUATION_QUEUE_URL: queue.queueUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler } = (await import('../../lambdas/indexer/handler')) as { handler: SqsBatchHandler });
});

afterAll(async () => {
  await fauxqs?.stop();
});

describe('indexer handler', () => {
  it('indexes a gzip ALB object and a replay of the same message adds nothing', async () => {
    // Prepare
    const lines = Array.from({ length: 50 }, (_, index) => albLine(index, `replay/${index}`));
    const key = albKey('replay');
    await putAndNotify(key, gzipSync(lines.join('\n')));

    // Act
    const first = await drain();
    const afterFirst = await count(`${PREFIX}-alb-*`);
    await putAndNotify(key, gzipSync(lines.join('\n')));
    const second = await drain();

    // Assess
    expect(first.failed).toEqual([]);
    expect(second.failed).toEqual([]);
    expect(afterFirst).toBe(50);
    expect(await count(`${PREFIX}-alb-*`)).toBe(50);
    expect(await fauxqs.countMessages(queue.dlqUrl)).toBe(0);
  });
});
