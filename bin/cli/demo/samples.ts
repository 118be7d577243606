/**
 * The demo's bundled samples (`demo/samples/`): a few lines of every log format, each with the S3
 * key AWS would deliver it under, the log sources that route the formats AWS does not name by key,
 * and CloudWatch Logs subscription payloads for the Firehose part. All dates are fixed
 * (2024-03-01), so every run writes the same documents.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogSource } from '../../../lambdas/core/log-sources';
import type { FormatName } from '../../../lambdas/core/types';

/** Where the sample files live. */
export const SAMPLES_DIRECTORY = path.resolve(__dirname, '..', '..', '..', 'demo', 'samples');

/** The account and region the samples were "delivered" in. */
export const SAMPLE_ACCOUNT = '123456789012';
export const SAMPLE_REGION = 'us-east-1';

/** A sample log file and the key it is uploaded under (gzip'd, whatever the key's extension). */
export interface SampleObject {
  /** Relative to {@link SAMPLES_DIRECTORY}. */
  readonly file: string;
  readonly key: string;
  /** The format the indexer should recognise (by key, by content or by log source). */
  readonly format: FormatName;
}

const ELB_PREFIX = `AWSLogs/${SAMPLE_ACCOUNT}/elasticloadbalancing/${SAMPLE_REGION}/2024/03/01/${SAMPLE_ACCOUNT}_elasticloadbalancing_${SAMPLE_REGION}`;
const VPC_PREFIX = `AWSLogs/${SAMPLE_ACCOUNT}/vpcflowlogs/${SAMPLE_REGION}/2024/03/01/${SAMPLE_ACCOUNT}_vpcflowlogs_${SAMPLE_REGION}`;

/**
 * Every sample object, keyed as each service names its log files.
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-file-format
 * @see https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
 * @see https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
 * @see https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html
 */
export const SAMPLE_OBJECTS: readonly SampleObject[] = [
  {
    // Line 4 is cut short on purpose: it goes to the quarantine, the other lines are indexed.
    file: 's3/alb.log',
    key: `${ELB_PREFIX}_app.shop-frontend.50dc6c495c0c9188_20240301T1005Z_192.0.2.10_2et2e1mx.log.gz`,
    format: 'alb',
  },
  {
    file: 's3/nlb.log',
    key: `${ELB_PREFIX}_net.mqtt-ingress.c6e77e28c25b2234_20240301T1010Z_4f6a2b7c.log.gz`,
    format: 'nlb',
  },
  {
    file: 's3/elb.log',
    key: `${ELB_PREFIX}_legacy-web_20240301T1015Z_192.0.2.11_3k9d8s7f.log.gz`,
    format: 'elb',
  },
  { file: 's3/cloudfront.log', key: 'cf/E2EXAMPLE.2024-03-01-10.abcd1234.gz', format: 'cloudfront' },
  {
    file: 's3/waf.log',
    key: `AWSLogs/${SAMPLE_ACCOUNT}/WAFLogs/${SAMPLE_REGION}/shop-acl/2024/03/01/10/05/${SAMPLE_ACCOUNT}_waflogs_${SAMPLE_REGION}_shop-acl_20240301T1005Z_5b8c1a2e.log.gz`,
    format: 'waf',
  },
  {
    file: 's3/cloudtrail.json',
    key: `AWSLogs/${SAMPLE_ACCOUNT}/CloudTrail/${SAMPLE_REGION}/2024/03/01/${SAMPLE_ACCOUNT}_CloudTrail_${SAMPLE_REGION}_20240301T1005Z_p3Yz8a9b7c6d5e4f.json.gz`,
    format: 'cloudtrail',
  },
  {
    file: 's3/vpcflow-default.log',
    key: `${VPC_PREFIX}_fl-0a1b2c3d4e5f67890_20240301T1010Z_1f2e3d4c.log.gz`,
    format: 'vpcflow',
  },
  {
    file: 's3/vpcflow-custom.log',
    key: `${VPC_PREFIX}_fl-0fedcba9876543210_20240301T1010Z_9a8b7c6d.log.gz`,
    format: 'vpcflow',
  },
  { file: 's3/s3access.log', key: 's3-access/2024-03-01-10-00-00-ABCDEF0123456789', format: 's3access' },
  { file: 's3/syslog.log', key: 'syslog/web-01/2024/03/01/messages-2024030110.log.gz', format: 'syslog' },
  {
    file: 's3/app.jsonl',
    key: 'app/orders-api/2024/03/01/orders-api-20240301T1016Z.jsonl.gz',
    format: 'json',
  },
];

/**
 * `LOG_SOURCES` of the demo's indexer: syslog and JSON lines have no AWS key pattern, so their
 * prefixes name them, as a deployment's configuration would.
 */
export const SAMPLE_LOG_SOURCES: readonly LogSource[] = [
  { prefix: 'syslog/', format: 'syslog' },
  { prefix: 'app/', format: 'json', timestampField: 'time', keyFields: '^app/(?<app>[^/]+)/' },
];

/** The folder of the CloudWatch Logs subscription payloads (`DATA_MESSAGE`s, as JSON). */
export const CLOUDWATCH_SAMPLES_FOLDER = 'cloudwatch-logs';

/** Reads a sample file. */
export function readSample(file: string): Promise<Buffer> {
  return readFile(path.join(SAMPLES_DIRECTORY, file));
}

/** The CloudWatch Logs payload files, in name order. */
export async function cloudWatchSampleFiles(): Promise<string[]> {
  const names = await readdir(path.join(SAMPLES_DIRECTORY, CLOUDWATCH_SAMPLES_FOLDER));
  return names
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(CLOUDWATCH_SAMPLES_FOLDER, name));
}
