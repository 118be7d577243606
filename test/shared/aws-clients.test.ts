import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient, s3ForcePathStyle } from '../../lambdas/shared/aws-clients';
import { FAUXQS_CREDENTIALS, useFauxqs } from '../support/fauxqs';

const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'AWS_REGION'];

describe('s3ForcePathStyle', () => {
  it.each([
    [{}, undefined, false],
    [{}, 'http://127.0.0.1:4566', true],
    [{ AWS_ENDPOINT_URL: 'http://minio:9000' }, undefined, true],
    [{ AWS_ENDPOINT_URL_S3: 'http://minio:9000' }, undefined, true],
    [{ AWS_ENDPOINT_URL_SQS: 'http://elsewhere:9324' }, undefined, false],
    [{ S3_FORCE_PATH_STYLE: 'false' }, 'http://127.0.0.1:4566', false],
    [{ S3_FORCE_PATH_STYLE: '1' }, undefined, true],
    [{ S3_FORCE_PATH_STYLE: 'TRUE' }, undefined, true],
  ])('with %j and endpoint %s is %s', (env, endpoint, expected) => {
    expect(s3ForcePathStyle(env, endpoint)).toBe(expected);
  });

  it('rejects a value that is not a boolean', () => {
    expect(() => s3ForcePathStyle({ S3_FORCE_PATH_STYLE: 'yes please' }, undefined)).toThrow(
      /S3_FORCE_PATH_STYLE must be true, false, 1 or 0/,
    );
  });
});

describe('client factories against fauxqs', () => {
  const fauxqs = useFauxqs();
  let bucket: string;
  const saved = new Map(ENDPOINT_VARIABLES.map((name) => [name, process.env[name]]));

  beforeAll(async () => {
    bucket = await fauxqs.createBucket();
    await fauxqs.putObject(bucket, 'k', 'v');
  });

  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const listKeys = async (client: ReturnType<typeof createS3Client>) => {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    client.destroy();
    return listed.Contents?.map((object) => object.Key);
  };

  it('honours AWS_ENDPOINT_URL_S3 through the SDK, path style and a default region included', async () => {
    // Prepare
    for (const name of ENDPOINT_VARIABLES) delete process.env[name];
    process.env.AWS_ENDPOINT_URL_S3 = fauxqs.endpoint;

    // Act
    const keys = await listKeys(createS3Client({ credentials: FAUXQS_CREDENTIALS }));

    // Assess
    expect(keys).toEqual(['k']);
  });

  it('honours AWS_ENDPOINT_URL for SQS', async () => {
    // Prepare
    for (const name of ENDPOINT_VARIABLES) delete process.env[name];
    process.env.AWS_ENDPOINT_URL = fauxqs.endpoint;
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const sqs = createSqsClient({ credentials: FAUXQS_CREDENTIALS });

    // Act
    const queues = await sqs.send(new ListQueuesCommand({}));
    sqs.destroy();

    // Assess
    expect(queues.QueueUrls).toContain(queueUrl);
  });

  it('sends to a queue URL whose host is not the endpoint from AWS_ENDPOINT_URL', async () => {
    // Prepare: fauxqs names its queues http://sqs.<region>.localhost:<port>/..., which need not resolve.
    for (const name of ENDPOINT_VARIABLES) delete process.env[name];
    process.env.AWS_ENDPOINT_URL = fauxqs.endpoint;
    const { queueUrl } = await fauxqs.createQueueWithDlq();
    const sqs = createSqsClient({ credentials: FAUXQS_CREDENTIALS });

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'continuation' }));
    sqs.destroy();

    // Assess
    expect(new URL(queueUrl).origin).not.toBe(new URL(fauxqs.endpoint).origin);
    expect((await fauxqs.drainQueue(queueUrl)).map((message) => message.Body)).toEqual(['continuation']);
  });

  it('lets an explicit endpoint win over the environment', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';

    // Act
    const keys = await listKeys(
      createS3Client({ endpoint: fauxqs.endpoint, credentials: FAUXQS_CREDENTIALS }),
    );

    // Assess
    expect(keys).toEqual(['k']);
  });

  it('rejects an endpoint that is not an http(s) URL', () => {
    expect(() => createS3Client({ endpoint: 'ftp://x' })).toThrow(/--endpoint must be an http/);
    expect(() => createS3Client({ endpoint: 'not a url' })).toThrow(/--endpoint is not a URL/);
  });
});
