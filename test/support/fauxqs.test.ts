/**
 * What the fauxqs harness offers, and what the emulator supports: the facts other tests rely on.
 */
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLatencyProxy, useFauxqs } from './fauxqs';

const fauxqs = useFauxqs();

describe('the fauxqs harness', () => {
  it('listens on 127.0.0.1 only', async () => {
    // Prepare
    const port = new URL(fauxqs.endpoint).port;
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && !address.internal && address.family === 'IPv4');

    // Act
    const reachable = (host: string) =>
      fetch(`http://${host}:${port}/health`).then(
        (response) => response.ok,
        () => false,
      );

    // Assess
    expect(new URL(fauxqs.endpoint).hostname).toBe('127.0.0.1');
    expect(await reachable('127.0.0.1')).toBe(true);
    if (external !== undefined) expect(await reachable(external.address)).toBe(false);
  });

  it('lists keys in locale order, not S3 byte order (a known gap: see the harness notes)', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    for (const key of ['a', 'B', 'c']) await fauxqs.putObject(bucket, key, key);

    // Act
    const listed = await fauxqs.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const after = await fauxqs.s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'a' }));

    // Assess: S3 would list B, a, c and return c after a.
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['a', 'B', 'c']);
    expect(after.Contents?.map((object) => object.Key)).toEqual(['c']);
  });

  it('lists with StartAfter, MaxKeys and continuation tokens', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    for (const key of ['a/1', 'a/2', 'a/3', 'a/4', 'b/1']) await fauxqs.putObject(bucket, key, key);

    // Act
    const first = await fauxqs.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/', StartAfter: 'a/1', MaxKeys: 2 }),
    );
    const second = await fauxqs.s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: 'a/',
        ContinuationToken: first.NextContinuationToken,
      }),
    );

    // Assess
    expect(first.Contents?.map((object) => object.Key)).toEqual(['a/2', 'a/3']);
    expect(first.IsTruncated).toBe(true);
    expect(second.Contents?.map((object) => object.Key)).toEqual(['a/4']);
    expect(second.IsTruncated).toBe(false);
    expect(first.Contents?.[0]?.Size).toBe(3);
    expect(first.Contents?.[0]?.LastModified).toBeInstanceOf(Date);
  });

  it('serves Range GETs and streaming and multipart uploads', async () => {
    // Prepare
    const bucket = await fauxqs.createBucket();
    await fauxqs.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'streamed',
        Body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
        ContentLength: 11,
      }),
    );
    const partSize = 5 * 1024 * 1024;
    const upload = await fauxqs.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
    const parts = [];
    for (const [index, body] of [Buffer.alloc(partSize, 'x'), Buffer.from('tail')].entries()) {
      const part = await fauxqs.s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'multi',
          UploadId: upload.UploadId,
          PartNumber: index + 1,
          Body: body,
        }),
      );
      parts.push({ ETag: part.ETag, PartNumber: index + 1 });
    }
    await fauxqs.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multi',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );

    // Act
    const range = await fauxqs.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'streamed', Range: 'bytes=6-' }),
    );
    const tail = await fauxqs.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'multi', Range: `bytes=${partSize - 1}-` }),
    );

    // Assess
    expect(await range.Body?.transformToString()).toBe('world');
    expect(await tail.Body?.transformToString()).toBe('xtail');
    expect(tail.ContentRange).toBe(`bytes ${partSize - 1}-${partSize + 3}/${partSize + 4}`);
  });

  it('accepts SendMessageBatch and moves a message received too often to the DLQ', async () => {
    // Prepare
    const { queueUrl, dlqUrl } = await fauxqs.createQueueWithDlq(undefined, {
      maxReceiveCount: 1,
      visibilityTimeout: 0,
    });

    // Act
    const batch = await fauxqs.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ['one', 'two'].map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'three' }));
    const firstReceive = await fauxqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    // Not deleted and visible again at once: the next receive exceeds maxReceiveCount.
    const secondReceive = await fauxqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    const deadLetters = await fauxqs.drainQueue(dlqUrl);

    // Assess
    expect(batch.Successful).toHaveLength(2);
    expect(batch.Failed ?? []).toEqual([]);
    expect(firstReceive.Messages?.map((message) => message.Body).sort()).toEqual(['one', 'three', 'two']);
    expect(secondReceive.Messages ?? []).toEqual([]);
    expect(deadLetters.map((message) => message.Body).sort()).toEqual(['one', 'three', 'two']);
  });

  it('delays requests through a latency proxy', async () => {
    // Prepare
    const proxy = await startLatencyProxy(fauxqs.endpoint, 150);
    const bucket = await fauxqs.createBucket();
    const started = Date.now();

    // Act
    const response = await fetch(`${proxy.endpoint}/${bucket}?list-type=2`);
    await response.text();
    await proxy.stop();

    // Assess
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
