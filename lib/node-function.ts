/**
 * The one way this app builds a Lambda from a TypeScript handler: esbuild, Node.js 22 on arm64, its
 * own log group with retention, and the metrics namespace the handlers' Powertools instances use.
 */
import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNagRule } from './nag-acknowledgements';

/** The CloudWatch namespace of every custom metric the handlers emit. */
export const METRICS_NAMESPACE = 'AwsLogPipeline';

/** The repository root: handler entries and the lock file are found from here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Options of {@link createNodeFunction}. */
export interface NodeFunctionProps {
  /** Handler file, relative to the repository root (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name: the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** A bundled Node.js 22 arm64 function with its own log group. */
export function createNodeFunction(
  scope: Construct,
  id: string,
  props: NodeFunctionProps,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
  });
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: path.join(PROJECT_ROOT, props.entry),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      ...props.environment,
    },
    bundling: {
      target: 'node22',
      minify: true,
      sourceMap: true,
      // Bundle the SDK too: the versions tested are the versions deployed.
      externalModules: [],
    },
  });
  acknowledgeNagRule(
    fn,
    'AwsSolutions-L1',
    'Node.js 22 is the runtime the handlers are built and tested for; moving to a newer one is a deliberate upgrade',
  );
  acknowledgeNagRule(
    fn,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes, which every function needs',
  );
  return fn;
}
