/**
 * Synthesises the stack the way `bin/app.ts` does (same `cdk.json` context, same config parsing,
 * same cdk-nag pack) with bundling skipped, so infra tests run offline and fast.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { gatherConfigContext, parsePipelineConfig } from '../../lib/config';
import { LogPipelineStack } from '../../lib/log-pipeline-stack';

/** The context `cdk.json` gives the app. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** One synthesised configuration. */
export interface SynthesizedPipeline {
  readonly stack: LogPipelineStack;
  readonly template: Template;
  /** cdk-nag AwsSolutions findings left after the acknowledgements, as `rule at path`. */
  readonly nagFindings: readonly string[];
}

/**
 * Synthesises the stack with `cdk.json`'s context plus `overrides` (the `-c key=value` pairs a user
 * would pass, e.g. `{ 'logPipeline.firehose.enabled': 'true' }`).
 */
export function synthesize(overrides: Readonly<Record<string, unknown>> = {}): SynthesizedPipeline {
  const app = new App({ context: { ...cdkJsonContext(), ...overrides, 'aws:cdk:bundling-stacks': [] } });
  const config = parsePipelineConfig(gatherConfigContext(app.node.getAllContext()));
  const stack = new LogPipelineStack(app, 'AwsLogPipeline', {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const template = Template.fromStack(stack);
  const nagFindings = new AwsSolutionsChecks(app)
    .validateScope(app)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );
  return { stack, template, nagFindings };
}

/** A resource as `Template.findResources` returns it. */
export type FoundResource = ReturnType<Template['findResources']>[string];

/** The logical id and the body of the single resource of `type` whose properties include `properties`. */
function onlyEntry(
  template: Template,
  type: string,
  properties: Readonly<Record<string, unknown>>,
): [string, FoundResource] {
  const entries = Object.entries(template.findResources(type, { Properties: Match.objectLike(properties) }));
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined)
    throw new Error(`expected one ${type}, found ${entries.length}`);
  return entry;
}

/** The single resource of `type` whose properties include `properties`. */
export function onlyResource(
  template: Template,
  type: string,
  properties: Readonly<Record<string, unknown>> = {},
): FoundResource {
  return onlyEntry(template, type, properties)[1];
}

/** The logical id of the single resource of `type` whose properties include `properties`. */
export function logicalIdOf(
  template: Template,
  type: string,
  properties: Readonly<Record<string, unknown>> = {},
): string {
  return onlyEntry(template, type, properties)[0];
}

/**
 * The text of a CloudFormation string that may be an `Fn::Join` (a state machine definition, a
 * dashboard body), with each reference written as `<LogicalId>` or `<LogicalId.Attribute>`.
 */
export function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null)
    throw new Error(`not a CloudFormation string: ${String(value)}`);
  const intrinsic = value as Record<string, unknown>;
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = intrinsic['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map(joinedText).join(join[0]);
  }
  throw new Error(`unsupported intrinsic: ${JSON.stringify(value)}`);
}

/** The parameters of the delivery stream's first processor, by name (`LambdaArn`, `BufferSizeInMBs`...). */
export function processorParametersOf(template: Template): Record<string, unknown> {
  const processors = onlyResource(template, 'AWS::KinesisFirehose::DeliveryStream').Properties
    .ExtendedS3DestinationConfiguration.ProcessingConfiguration.Processors;
  const parameters: { ParameterName: string; ParameterValue: unknown }[] = processors[0]?.Parameters ?? [];
  return Object.fromEntries(
    parameters.map((parameter) => [parameter.ParameterName, parameter.ParameterValue]),
  );
}
