/**
 * The S3 + SQS test harness: a real fauxqs server (AWS wire protocol over HTTP) in a child process,
 * bound to 127.0.0.1 on a free port, with ready SDK clients and helpers for buckets, queues and
 * messages. Every test that talks to S3 or SQS uses this.
 *
 * Why a child process: fauxqs is ESM-only and Jest runs CommonJS here, so it cannot be imported
 * in a test. Why not its `startFauxqs`: that listens on 0.0.0.0; the child uses fauxqs' exported
 * `buildApp` and listens on 127.0.0.1 only. The child exits when its stdin closes, so a crashed
 * Jest worker leaves no server behind. (A `tsx` script such as the demo can `import { buildApp }
 * from 'fauxqs'` and do the same in process.)
 *
 * What fauxqs 1.9.2 supports and lacks (checked in `fauxqs.test.ts`):
 * - Supported: PutObject (also `aws-chunked` streaming bodies), multipart uploads, GetObject with
 *   `Range`, HeadObject, ListObjectsV2 with `StartAfter`, `ContinuationToken` and `MaxKeys`;
 *   SendMessageBatch, ReceiveMessage, DeleteMessage(Batch), visibility timeouts, RedrivePolicy
 *   (a message received more than `maxReceiveCount` times moves to the DLQ).
 * - No bucket notifications: a test sends the S3-shaped message itself
 *   (`lambdas/shared/s3-notifications.ts`).
 * - Listing order: keys are sorted with `localeCompare` but `StartAfter` compares code units, so
 *   keys whose locale order differs from S3's UTF-8 byte order (`B` vs `a`, punctuation) list in a
 *   different order than on S3 and can be skipped after a `StartAfter`. Tests that resume use
 *   keys of lower-case letters, digits, `/`, `-` and `.`, where both orders agree.
 * - `LastModified` has millisecond precision (S3: seconds) and cannot be set.
 * - PutObject ignores `If-None-Match` (conditional writes always succeed and overwrite).
 * - No authentication: any credentials are accepted.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Region of every fauxqs resource. */
export const FAUXQS_REGION = 'us-east-1';

/** Dummy credentials: fauxqs accepts any. */
export const FAUXQS_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

// Runs in the child, as an ES module resolved from the repository root.
const SERVER_SCRIPT = `
import { buildApp } from 'fauxqs';
const app = buildApp({ logger: false });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ address }) + '\\n');
const stop = () => app.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
`;

/** A queue and its dead-letter queue. */
export interface QueueWithDlq {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

/** Options of {@link FauxqsHarness.createQueueWithDlq}. */
export interface QueueOptions {
  /** Receives before a message moves to the DLQ. @default 3 */
  readonly maxReceiveCount?: number;
  /** Seconds. @default 30 */
  readonly visibilityTimeout?: number;
}

/** A running fauxqs server and what tests need to use it. */
export interface FauxqsHarness {
  /** `http://127.0.0.1:<port>`: S3 and SQS on one endpoint. */
  readonly endpoint: string;
  /** Path-style S3 client with dummy credentials. */
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /**
   * Environment for a child process (a CLI run) to reach this server through the SDK's own
   * `AWS_ENDPOINT_URL` support: endpoint, region, dummy credentials, path-style S3, no IMDS.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Creates a bucket (a unique name when none is given) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Creates a queue and its DLQ with a RedrivePolicy (unique names unless given). */
  createQueueWithDlq(name?: string, options?: QueueOptions): Promise<QueueWithDlq>;
  /** Stores an object; returns its ETag (quoted, as S3 returns it). */
  putObject(bucket: string, key: string, body: string | Uint8Array): Promise<string>;
  /**
   * Receives and deletes every message until the queue has stayed empty for `idleMs`, in the
   * order received. For the messages a command left behind once it has finished.
   */
  drainQueue(queueUrl: string, idleMs?: number): Promise<Message[]>;
  /** Approximate number of visible messages. */
  countMessages(queueUrl: string): Promise<number>;
  /** Stops the server and the clients. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts fauxqs in a child process and waits until `GET /health` answers. */
export async function startFauxqs(): Promise<FauxqsHarness> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER_SCRIPT], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, FAUXQS_LOGGER: 'false' },
  });
  const endpoint = await readAddress(child);
  await waitForHealth(endpoint);

  const clientConfig = { endpoint, region: FAUXQS_REGION, credentials: FAUXQS_CREDENTIALS };
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const sqs = new SQSClient(clientConfig);
  let stopped: Promise<void> | undefined;

  const harness: FauxqsHarness = {
    endpoint,
    s3,
    sqs,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: FAUXQS_REGION,
      AWS_ACCESS_KEY_ID: FAUXQS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAUXQS_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    },

    async createBucket(name = uniqueName('bucket')) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },

    async createQueueWithDlq(name = uniqueName('queue'), options = {}) {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
      const dlqUrl = required(dlq.QueueUrl, 'DLQ url');
      const dlqArn = await queueArn(sqs, dlqUrl);
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeout ?? 30),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: options.maxReceiveCount ?? 3,
            }),
          },
        }),
      );
      const queueUrl = required(queue.QueueUrl, 'queue url');
      return { queueUrl, queueArn: await queueArn(sqs, queueUrl), dlqUrl, dlqArn };
    },

    async putObject(bucket, key, body) {
      const result = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return required(result.ETag, 'ETag');
    },

    async drainQueue(queueUrl, idleMs = 300) {
      const messages: Message[] = [];
      let idleSince = Date.now();
      while (Date.now() - idleSince < idleMs) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        const batch = received.Messages ?? [];
        if (batch.length === 0) {
          await sleep(25);
          continue;
        }
        messages.push(...batch);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: required(message.ReceiptHandle, 'receipt handle'),
            })),
          }),
        );
        idleSince = Date.now();
      }
      return messages;
    },

    async countMessages(queueUrl) {
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? '0');
    },

    stop() {
      stopped ??= (async () => {
        s3.destroy();
        sqs.destroy();
        await stopChild(child);
      })();
      return stopped;
    },
  };
  return harness;
}

/**
 * Registers Jest hooks that start a fauxqs server before the file's (or describe block's) tests
 * and stop it after them, and returns a harness that forwards to it (use it inside tests). With
 * `applyEnv`, `process.env` also carries {@link FauxqsHarness.env} meanwhile (restored after), for
 * code under test that builds its own SDK clients.
 */
export function useFauxqs(options: { readonly applyEnv?: boolean } = {}): FauxqsHarness {
  let started: FauxqsHarness | undefined;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    started = await startFauxqs();
    if (options.applyEnv === true) Object.assign(process.env, started.env);
  });
  afterAll(async () => {
    if (options.applyEnv === true) process.env = savedEnv;
    await started?.stop();
  });
  const harness = (): FauxqsHarness => {
    if (started === undefined) throw new Error('fauxqs starts in beforeAll: use the harness inside tests');
    return started;
  };
  return {
    get endpoint() {
      return harness().endpoint;
    },
    get s3() {
      return harness().s3;
    },
    get sqs() {
      return harness().sqs;
    },
    get env() {
      return harness().env;
    },
    createBucket: (name) => harness().createBucket(name),
    createQueueWithDlq: (name, queueOptions) => harness().createQueueWithDlq(name, queueOptions),
    putObject: (bucket, key, body) => harness().putObject(bucket, key, body),
    drainQueue: (queueUrl, idleMs) => harness().drainQueue(queueUrl, idleMs),
    countMessages: (queueUrl) => harness().countMessages(queueUrl),
    stop: () => harness().stop(),
  };
}

/** A name no other test uses: fauxqs state lives as long as the server. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

type ServerProcess = ChildProcessByStdio<Writable, Readable, Readable>;

function readAddress(child: ServerProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => fail(new Error('fauxqs did not start within 20 s')), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}${stderr === '' ? '' : `\n${stderr}`}`));
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const { address } = JSON.parse(stdout.slice(0, newline)) as { address: string };
      resolve(address.replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code, signal) => fail(new Error(`fauxqs exited early (${signal ?? code})`)));
    child.once('error', fail);
  });
}

async function waitForHealth(endpoint: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      http
        .get(`${endpoint}/health`, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
        .on('error', () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`fauxqs at ${endpoint} is not healthy (last status ${status})`);
    await sleep(50);
  }
}

async function stopChild(child: ServerProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return required(attributes.Attributes?.QueueArn, 'QueueArn');
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`fauxqs response without ${what}`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `logpipe` run in a child process. */
export interface LogpipeProcess {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Everything written to stdout/stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr contains `text` (or rejects after `timeoutMs`). */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | NodeJS.Signals>;
}

/**
 * Runs `logpipe <args>` through tsx in a child process, with `env` added to the environment (pass
 * a harness' {@link FauxqsHarness.env}). For what only a real process shows: signals, exit codes.
 */
export function spawnLogpipe(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): LogpipeProcess {
  // `node --import tsx`, not the tsx binary: that one runs the script in a second process, which
  // a SIGKILL of the first would leave running.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'bin', 'logpipe.ts'), ...args],
    {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!stderr.includes(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`stderr did not show ${JSON.stringify(text)} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** A TCP-level HTTP proxy that delays every request: makes a fast emulator slow enough to interrupt. */
export interface LatencyProxy {
  /** `http://127.0.0.1:<port>`, to use instead of the harness endpoint. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards every request to `target` after `delayMs`.
 * Tests use it to interrupt a command mid-run deterministically (a kill while requests are in
 * flight) without hooks in product code.
 */
export async function startLatencyProxy(target: string, delayMs: number): Promise<LatencyProxy> {
  const targetUrl = new URL(target);
  const server = http.createServer((request, response) => {
    setTimeout(() => {
      const upstream = http.request(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
