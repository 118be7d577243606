/**
 * The OpenSearch client factory: one place that decides how the indexer, the CLI and the demo
 * reach a cluster. SigV4 (Amazon OpenSearch Service, or Serverless when the endpoint is an
 * `aoss` one), HTTP basic auth (fine-grained access control's internal users, self-managed
 * clusters) or no auth (a local cluster, the test server).
 *
 * The client never retries on its own: the bulk sink retries only the items that need it, with
 * backoff and a deadline, and a client-side retry of a whole bulk request would send documents
 * the cluster may already have indexed and double-count them.
 *
 * @see https://docs.aws.amazon.com/opensearch-service/latest/developerguide/request-signing.html#request-signing-node
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';

/** How to reach a cluster; the indexer's `IndexerConfig.opensearch` has this shape. */
export interface OpenSearchConnection {
  /** `https://host[:port]` or `http://...`; a bare host name means HTTPS. */
  readonly endpoint: string;
  /** @default 'sigv4' */
  readonly auth?: 'sigv4' | 'basic' | 'none';
  /** For `basic`. */
  readonly username?: string;
  /** For `basic`. */
  readonly password?: string;
  /**
   * For `sigv4`, when the endpoint's host name does not name one (a custom domain endpoint); an
   * AWS host name's region wins, since a signature for any other region is refused.
   * @default `AWS_REGION`
   */
  readonly region?: string;
}

/** Tuning of the client. */
export interface OpenSearchClientOptions {
  /** Per-request timeout; the sink shortens it near its deadline. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Gzip request bodies (less network, more CPU). @default false */
  readonly compression?: boolean;
  /** SigV4 credentials. @default the AWS SDK's default provider chain */
  readonly credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
}

/** The default request timeout: longer than a healthy 5 MB bulk request, shorter than a Lambda's life. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The endpoint as a URL; a bare host name is taken as HTTPS. */
export function endpointUrl(endpoint: string): URL {
  return new URL(/^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
}

/**
 * The SigV4 service of an endpoint: `aoss` for OpenSearch Serverless collections
 * (`<id>.<region>.aoss.amazonaws.com`), `es` for OpenSearch Service domains.
 */
export function signingServiceOf(url: URL): 'es' | 'aoss' {
  return /\.aoss\.amazonaws\.com$/i.test(url.hostname) ? 'aoss' : 'es';
}

/** The region in an AWS endpoint's host name (`search-x.eu-west-1.es.amazonaws.com`), if any. */
export function regionOf(url: URL): string | undefined {
  return /\.([a-z]{2}(?:-[a-z]+)+-\d)\.(?:es|aoss)\.amazonaws\.com$/i.exec(url.hostname)?.[1];
}

/**
 * Creates a client for `connection`.
 *
 * @throws Error when `basic` lacks a username or password, or `sigv4` cannot tell its region.
 */
export function createOpenSearchClient(
  connection: OpenSearchConnection,
  options: OpenSearchClientOptions = {},
): Client {
  const url = endpointUrl(connection.endpoint);
  const base: ClientOptions = {
    node: url.origin + url.pathname.replace(/\/$/, ''),
    maxRetries: 0,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    // One endpoint behind a load balancer: no sniffing, and no resurrection pings (a single node
    // marked dead is used anyway).
    sniffOnStart: false,
    sniffOnConnectionFault: false,
    resurrectStrategy: 'none',
    ...(options.compression === true && { compression: 'gzip' as const }),
  };
  const auth = connection.auth ?? 'sigv4';
  if (auth === 'none') return new Client(base);
  if (auth === 'basic') {
    if (connection.username === undefined || connection.password === undefined) {
      throw new Error('OpenSearch basic auth needs a username and a password');
    }
    return new Client({ ...base, auth: { username: connection.username, password: connection.password } });
  }
  const region = regionOf(url) ?? connection.region ?? process.env.AWS_REGION;
  if (region === undefined || region === '') {
    throw new Error(`cannot tell the AWS region of ${url.host} for SigV4: set AWS_REGION`);
  }
  return new Client({
    ...base,
    ...AwsSigv4Signer({
      region,
      service: signingServiceOf(url),
      getCredentials: options.credentials ?? defaultProvider(),
    }),
  });
}
