#!/usr/bin/env node
/**
 * The CDK app: validates the `logPipeline` context, builds the stack, and runs cdk-nag's
 * AwsSolutions checks on every synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { gatherConfigContext, PipelineConfigError, parsePipelineConfig } from '../lib/config';
import { LogPipelineStack } from '../lib/log-pipeline-stack';

const app = new App();
try {
  const config = parsePipelineConfig(gatherConfigContext(app.node.getAllContext()));
  new LogPipelineStack(app, 'AwsLogPipeline', {
    description: 'aws-log-pipeline: S3 to SQS to OpenSearch indexer, CloudWatch Logs to Firehose archive',
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error: unknown) {
  // A configuration mistake deserves its message, not a stack trace.
  if (!(error instanceof PipelineConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
