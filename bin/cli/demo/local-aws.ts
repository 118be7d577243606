/**
 * The demo's AWS: fauxqs (an S3 and SQS emulator speaking the AWS wire protocol) in this process,
 * on a free port of 127.0.0.1 only, with SDK clients and the resources the pipeline needs.
 *
 * fauxqs' own `startFauxqs` listens on every interface; its `buildApp` is a Fastify app that
 * listens where it is told. It has no bucket notifications: the demo sends them itself.
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../../../lambdas/shared/aws-clients';

/** The dummy credentials of the emulator (it accepts any). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'demo', secretAccessKey: 'demo' } as const;

/** A queue, its DLQ and their ARNs. */
export interface LocalQueue {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
}

/** A running emulator. */
export interface LocalAws {
  /** `http://127.0.0.1:<port>`: S3 and SQS on one endpoint. */
  readonly endpoint: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  createBucket(name: string): Promise<void>;
  /** A queue whose messages move to `<name>-dlq` after `maxReceiveCount` receives. */
  createQueueWithDlq(name: string, maxReceiveCount: number): Promise<LocalQueue>;
  /** Visible messages in a queue. */
  queueDepth(queueUrl: string): Promise<number>;
  stop(): Promise<void>;
}

/** Starts fauxqs on 127.0.0.1 with a free port. */
export async function startLocalAws(region: string): Promise<LocalAws> {
  // fauxqs is ESM-only: loaded with import(), which works from this CommonJS-compiled module.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, defaultRegion: region });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const endpoint = address.replace('localhost', '127.0.0.1');
  const clientOptions = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  const s3 = createS3Client(clientOptions);
  const sqs = createSqsClient(clientOptions);

  const queueArnOf = async (queueUrl: string): Promise<string> => {
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    return required(attributes.Attributes?.QueueArn, `the ARN of ${queueUrl}`);
  };

  return {
    endpoint,
    s3,
    sqs,
    async createBucket(name) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    },
    async createQueueWithDlq(name, maxReceiveCount) {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
      const dlqUrl = required(dlq.QueueUrl, 'the DLQ URL');
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArnOf(dlqUrl), maxReceiveCount }),
          },
        }),
      );
      const queueUrl = required(queue.QueueUrl, 'the queue URL');
      return { queueUrl, queueArn: await queueArnOf(queueUrl), dlqUrl };
    },
    async queueDepth(queueUrl) {
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? '0');
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`fauxqs answered without ${what}`);
  return value;
}
