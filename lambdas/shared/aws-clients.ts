/**
 * S3 and SQS client factories shared by the Lambdas and the CLI.
 *
 * Endpoints: the AWS SDK v3 itself honours `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SQS` and
 * `AWS_ENDPOINT_URL` (service-specific first), so these factories only add what the SDK does not
 * do: an explicit `--endpoint` that wins over the environment, path-style addressing for
 * S3-compatible stores, and a region default for local emulators.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/** The environment variables the factories read. */
export interface AwsClientEnvironment {
  readonly AWS_REGION?: string | undefined;
  readonly AWS_DEFAULT_REGION?: string | undefined;
  readonly AWS_ENDPOINT_URL?: string | undefined;
  readonly AWS_ENDPOINT_URL_S3?: string | undefined;
  readonly AWS_ENDPOINT_URL_SQS?: string | undefined;
  /** `true`/`1` or `false`/`0`; see {@link s3ForcePathStyle}. */
  readonly S3_FORCE_PATH_STYLE?: string | undefined;
}

/** Static credentials, for tests and emulators (any value is accepted there). */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options common to both factories. */
export interface AwsClientOptions {
  /** An endpoint URL (`--endpoint`) that wins over `AWS_ENDPOINT_URL*`; absent: the SDK's own resolution. */
  readonly endpoint?: string;
  /** The region; absent: `AWS_REGION`, then the SDK's chain (profile), or `us-east-1` with a custom endpoint. */
  readonly region?: string;
  /** Explicit credentials (tests, emulators); absent: the SDK's default provider chain. */
  readonly credentials?: StaticCredentials;
  /** Attempts per request, including the first; absent: the SDK default (3). */
  readonly maxAttempts?: number;
}

/** The default region when a custom endpoint is set and nothing names a region (local emulators). */
export const EMULATOR_DEFAULT_REGION = 'us-east-1';

/**
 * Validates an endpoint URL (`--endpoint` or an `AWS_ENDPOINT_URL*` variable).
 *
 * @throws Error naming the source when the text is not an http(s) URL.
 */
export function parseEndpointUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${source} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${source} must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  return text;
}

/**
 * Whether S3 requests use path-style addressing (`http://host/bucket/key`).
 *
 * `S3_FORCE_PATH_STYLE` decides when set; otherwise path style is used exactly when a custom
 * endpoint is configured, because S3-compatible stores and emulators (MinIO, fauxqs) are usually
 * reached by IP or a single host name that has no `<bucket>.` subdomains.
 *
 * @throws Error when `S3_FORCE_PATH_STYLE` is neither a boolean word nor 0/1.
 */
export function s3ForcePathStyle(env: AwsClientEnvironment, endpoint: string | undefined): boolean {
  const flag = env.S3_FORCE_PATH_STYLE?.trim().toLowerCase();
  if (flag === undefined || flag === '') return customS3Endpoint(env, endpoint) !== undefined;
  if (flag === 'true' || flag === '1') return true;
  if (flag === 'false' || flag === '0') return false;
  throw new Error(
    `S3_FORCE_PATH_STYLE must be true, false, 1 or 0, got ${JSON.stringify(env.S3_FORCE_PATH_STYLE)}`,
  );
}

function customS3Endpoint(env: AwsClientEnvironment, endpoint: string | undefined): string | undefined {
  return endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

function customSqsEndpoint(env: AwsClientEnvironment, endpoint: string | undefined): string | undefined {
  return endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_SQS) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

// The SDK throws "Region is missing" when nothing names one; with an emulator endpoint the region
// only has to be consistent, so a fixed default keeps local runs free of AWS configuration.
function regionFor(options: AwsClientOptions, customEndpoint: string | undefined): string | undefined {
  const env: AwsClientEnvironment = process.env;
  return (
    options.region ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    (customEndpoint === undefined ? undefined : EMULATOR_DEFAULT_REGION)
  );
}

/**
 * Socket timeouts for every client: without them a stalled connection or a download that stops
 * sending would hold an invocation until Lambda kills it. `requestTimeout` is the socket's idle
 * time, so a long streamed GetObject that keeps receiving is never cut.
 */
const REQUEST_HANDLER_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 60_000 } as const;

function commonConfig(options: AwsClientOptions, customEndpoint: string | undefined) {
  const region = regionFor(options, customEndpoint);
  return {
    requestHandler: REQUEST_HANDLER_TIMEOUTS,
    ...(options.endpoint !== undefined && { endpoint: parseEndpointUrl(options.endpoint, '--endpoint') }),
    ...(region !== undefined && { region }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
  };
}

/** An S3 client honouring `--endpoint`, `AWS_ENDPOINT_URL(_S3)` and `S3_FORCE_PATH_STYLE`. */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  // The SDK reads the same variables from process.env, so the factories do too.
  const env: AwsClientEnvironment = process.env;
  const customEndpoint = customS3Endpoint(env, options.endpoint);
  return new S3Client({
    ...commonConfig(options, customEndpoint),
    forcePathStyle: s3ForcePathStyle(env, options.endpoint),
  });
}

/** An SQS client honouring `--endpoint` and `AWS_ENDPOINT_URL(_SQS)`. */
export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  const env: AwsClientEnvironment = process.env;
  const customEndpoint = customSqsEndpoint(env, options.endpoint);
  return new SQSClient({
    ...commonConfig(options, customEndpoint),
    // The SDK sends to the host a queue URL names unless an endpoint is set in the client's own
    // configuration; an emulator's queue URLs (fauxqs: `sqs.<region>.localhost`) need not resolve.
    ...(customEndpoint !== undefined && { useQueueUrlAsEndpoint: false }),
  });
}
