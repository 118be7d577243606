/**
 * The Firehose processor's input buffer: by default it follows the output format, so a full buffer
 * is answered without re-ingestion (see `bench/firehose.ts`); a configured size is kept, fractions
 * included, and one Firehose would refuse is refused at synthesis.
 */
import { App, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_PROCESSOR_BUFFER_MIB } from '../../lambdas/firehose-processor/buffer-size';
import { FirehoseArchive, type FirehoseArchiveProps } from '../../lib/firehose-archive';
import { processorParametersOf, synthesize } from './synth';

/** The `BufferSizeInMBs` the delivery stream of a lone archive construct is given. */
function bufferSizeOf(props: Omit<FirehoseArchiveProps, 'destinationBucket'>): unknown {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Archive', { env: { account: '123456789012', region: 'eu-west-1' } });
  new FirehoseArchive(stack, 'Archive', { destinationBucket: new s3.Bucket(stack, 'Bucket'), ...props });
  return processorParametersOf(Template.fromStack(stack)).BufferSizeInMBs;
}

describe('processor buffer size', () => {
  it('defaults to 0.5 MiB for raw output and 0.2 MiB for JSON output', () => {
    // Act
    const raw = bufferSizeOf({});
    const json = bufferSizeOf({ outputFormat: 'json' });

    // Assess: fractions, which the L2 processor cannot render, reach the template
    expect([raw, json]).toEqual(['0.5', '0.2']);
    expect(DEFAULT_PROCESSOR_BUFFER_MIB).toEqual({ raw: 0.5, json: 0.2 });
  });

  it('keeps a configured size, whatever the output format', () => {
    expect(bufferSizeOf({ outputFormat: 'json', processorBufferSize: Size.kibibytes(1536) })).toBe('1.5');
    expect(bufferSizeOf({ processorBufferSize: Size.mebibytes(3) })).toBe('3');
  });

  it('refuses a size outside the 0.2-3 MiB Firehose accepts', () => {
    expect(() => bufferSizeOf({ processorBufferSize: Size.kibibytes(100) })).toThrow(
      'processorBufferSize must be 0.2 to 3 MiB, got 0.09765625 MiB',
    );
    expect(() => bufferSizeOf({ processorBufferSize: Size.mebibytes(4) })).toThrow('must be 0.2 to 3 MiB');
  });

  it('takes the JSON default, or the configured size, from the CDK context', () => {
    // Prepare / Act: what a user passes with -c
    const firehose = {
      enabled: true,
      outputFormat: 'json',
      destination: { mode: 'import', bucketName: 'my-archive' },
    };
    const byFormat = synthesize({ 'logPipeline.firehose': JSON.stringify(firehose) });
    const configured = synthesize({
      'logPipeline.firehose': JSON.stringify({ ...firehose, processorBufferSizeMiB: 0.75 }),
    });

    // Assess
    expect(processorParametersOf(byFormat.template).BufferSizeInMBs).toBe('0.2');
    expect(processorParametersOf(configured.template).BufferSizeInMBs).toBe('0.75');
  });
});
