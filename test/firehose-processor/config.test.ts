import { loadProcessorConfig, ProcessorConfigError } from '../../lambdas/firehose-processor/config';

describe('loadProcessorConfig', () => {
  it('defaults to raw output and every partition key', () => {
    // Prepare, Act
    const config = loadProcessorConfig({});

    // Assess
    expect(config).toEqual({
      outputFormat: 'raw',
      partitionKeys: ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'],
    });
  });

  it('reads JSON output and a partition key subset, in prefix order', () => {
    // Prepare, Act
    const config = loadProcessorConfig({
      OUTPUT_FORMAT: 'json',
      PARTITION_KEYS: ' day, logGroup ,year,month ',
    });

    // Assess
    expect(config).toEqual({ outputFormat: 'json', partitionKeys: ['logGroup', 'year', 'month', 'day'] });
  });

  it('names every invalid variable in one error', () => {
    // Prepare
    const env = { OUTPUT_FORMAT: 'xml', PARTITION_KEYS: 'logGroup,minute' };

    // Act
    const load = () => loadProcessorConfig(env);

    // Assess
    expect(load).toThrow(ProcessorConfigError);
    expect(load).toThrow(/OUTPUT_FORMAT: .*"raw".*"json"/);
    expect(load).toThrow(/PARTITION_KEYS\.1: /);
  });

  it('refuses an empty or repeated key list', () => {
    // Prepare, Act, Assess
    expect(() => loadProcessorConfig({ PARTITION_KEYS: ' , ' })).toThrow('name at least one partition key');
    expect(() => loadProcessorConfig({ PARTITION_KEYS: 'hour,hour' })).toThrow('names a partition key twice');
  });
});
