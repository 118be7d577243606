/**
 * The client factory: what each auth mode puts on the wire (seen by the test server), which
 * SigV4 service and region an endpoint implies, and that the client never retries on its own.
 */
import { errors } from '@opensearch-project/opensearch';
import {
  createOpenSearchClient,
  endpointUrl,
  regionOf,
  signingServiceOf,
} from '../../../lambdas/shared/opensearch/client';
import { OpenSearchTestServer } from '../../support/opensearch-server';

let server: OpenSearchTestServer;

beforeAll(async () => {
  server = await OpenSearchTestServer.start();
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  server.reset();
});

function lastAuthorization(): unknown {
  return server.requests.at(-1)?.headers.authorization;
}

describe('createOpenSearchClient', () => {
  it('signs requests with SigV4 for the es service and the given region', async () => {
    // Prepare
    const client = createOpenSearchClient(
      { endpoint: server.url, auth: 'sigv4', region: 'eu-west-1' },
      { credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }) },
    );

    // Act
    await client.info();
    await client.close();

    // Assess
    expect(lastAuthorization()).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(server.requests.at(-1)?.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sends basic credentials, or none', async () => {
    // Prepare
    const basic = createOpenSearchClient({
      endpoint: server.url,
      auth: 'basic',
      username: 'indexer',
      password: 'p@ss',
    });
    const anonymous = createOpenSearchClient({ endpoint: server.url, auth: 'none' });

    // Act
    await basic.info();
    const basicHeader = lastAuthorization();
    await anonymous.info();
    const anonymousHeader = lastAuthorization();
    await basic.close();
    await anonymous.close();

    // Assess
    expect(basicHeader).toBe(`Basic ${Buffer.from('indexer:p@ss').toString('base64')}`);
    expect(anonymousHeader).toBeUndefined();
  });

  it('does not retry a failed request itself', async () => {
    // Prepare
    server.injectFaults({ failRequests: { count: 1, status: 503, path: '/' } });
    const client = createOpenSearchClient({ endpoint: server.url, auth: 'none' });

    // Act
    const outcome = await client.info().then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.close();

    // Assess
    expect(outcome).toBeInstanceOf(errors.ResponseError);
    expect((outcome as errors.ResponseError).statusCode).toBe(503);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses incomplete settings with a clear message', () => {
    // Prepare
    const previousRegion = process.env.AWS_REGION;
    delete process.env.AWS_REGION;

    // Act
    const missingPassword = (): unknown =>
      createOpenSearchClient({ endpoint: 'https://search.example.com', auth: 'basic', username: 'u' });
    const missingRegion = (): unknown =>
      createOpenSearchClient({ endpoint: 'https://search.example.com', auth: 'sigv4' });

    // Assess
    try {
      expect(missingPassword).toThrow('OpenSearch basic auth needs a username and a password');
      expect(missingRegion).toThrow(
        'cannot tell the AWS region of search.example.com for SigV4: set AWS_REGION',
      );
    } finally {
      if (previousRegion !== undefined) process.env.AWS_REGION = previousRegion;
    }
  });
});

describe('endpoint helpers', () => {
  it('reads scheme, SigV4 service and region from an endpoint', () => {
    // Prepare
    const domain = endpointUrl('search-logs-abc123.eu-central-1.es.amazonaws.com');
    const serverless = endpointUrl('https://0a1b2c3d4e.us-west-2.aoss.amazonaws.com');
    const local = endpointUrl('http://localhost:9200');

    // Act
    const described = [domain, serverless, local].map((url) => [
      url.protocol,
      signingServiceOf(url),
      regionOf(url),
    ]);

    // Assess
    expect(described).toEqual([
      ['https:', 'es', 'eu-central-1'],
      ['https:', 'aoss', 'us-west-2'],
      ['http:', 'es', undefined],
    ]);
  });
});
