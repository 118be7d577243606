import { ConfigurationError, loadIndexerConfig } from '../../lambdas/indexer/config';

const minimal = { OPENSEARCH_ENDPOINT: 'https://search.example.com', QUARANTINE_BUCKET: 'quarantine-bucket' };

describe('loadIndexerConfig', () => {
  it('applies the documented defaults', () => {
    // Act
    const config = loadIndexerConfig(minimal);

    // Assess
    expect(config).toEqual({
      opensearch: { endpoint: 'https://search.example.com', auth: 'sigv4', region: 'us-east-1' },
      indexPrefix: 'logs',
      logSources: [],
      quarantine: { bucket: 'quarantine-bucket', prefix: 'quarantine/' },
      s3ForcePathStyle: false,
      timeSafetyMarginMs: 30_000,
      bulkMaxBytes: 5 * 1024 * 1024,
      messageConcurrency: 1,
    });
  });

  it('reads LOG_SOURCES, basic auth and the S3 options', () => {
    const config = loadIndexerConfig({
      ...minimal,
      OPENSEARCH_AUTH: 'basic',
      OPENSEARCH_USERNAME: 'admin',
      OPENSEARCH_PASSWORD: 'secret',
      LOG_SOURCES: JSON.stringify([
        { prefix: 'app/', format: 'json', timestampField: 'ts', timestampFormat: 'epoch_millis' },
      ]),
      QUARANTINE_PREFIX: 'bad',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'eu-west-1',
    });

    expect(config.opensearch).toEqual({
      endpoint: 'https://search.example.com',
      auth: 'basic',
      username: 'admin',
      password: 'secret',
      region: 'eu-west-1',
    });
    expect(config.logSources).toEqual([
      { prefix: 'app/', format: 'json', timestampField: 'ts', timestampFormat: 'epoch_millis' },
    ]);
    expect(config.quarantine.prefix).toBe('bad/');
    expect(config.s3ForcePathStyle).toBe(true);
  });

  it('names every invalid variable in one clear error', () => {
    const load = () =>
      loadIndexerConfig({
        OPENSEARCH_ENDPOINT: 'not a url',
        OPENSEARCH_AUTH: 'basic',
        LOG_SOURCES: '[{"prefix":"x/","format":"nope"}]',
      });

    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(/OPENSEARCH_ENDPOINT: must be an http\(s\) URL/);
    expect(load).toThrow(/LOG_SOURCES\.0\.format/);
    expect(load).toThrow(/QUARANTINE_BUCKET/);
  });

  it('rejects a timestampFormat the core cannot compile when the configuration loads', () => {
    const load = () =>
      loadIndexerConfig({
        ...minimal,
        LOG_SOURCES: JSON.stringify([{ prefix: 'app/', format: 'json', timestampFormat: 'yyyy-MM-dd QQ' }]),
      });

    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(/LOG_SOURCES\.0\.timestampFormat/);
    expect(() =>
      loadIndexerConfig({
        ...minimal,
        LOG_SOURCES: JSON.stringify([
          { prefix: 'app/', format: 'json', timestampFormat: 'dd/MMM/yyyy:HH:mm:ss Z' },
        ]),
      }),
    ).not.toThrow();
  });

  it('rejects basic auth without credentials and LOG_SOURCES that is not JSON', () => {
    expect(() => loadIndexerConfig({ ...minimal, OPENSEARCH_AUTH: 'basic' })).toThrow(
      /OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD/,
    );
    expect(() => loadIndexerConfig({ ...minimal, LOG_SOURCES: '{oops' })).toThrow(
      /LOG_SOURCES: must be JSON/,
    );
  });

  it('reads INVOCATION_MAX_CHARS as the per-invocation budget, and only a positive integer', () => {
    // Act
    const config = loadIndexerConfig({ ...minimal, INVOCATION_MAX_CHARS: '250000000' });
    const zero = () => loadIndexerConfig({ ...minimal, INVOCATION_MAX_CHARS: '0' });
    const fraction = () => loadIndexerConfig({ ...minimal, INVOCATION_MAX_CHARS: '1.5' });

    // Assess
    expect(config.maxCharsPerInvocation).toBe(250_000_000);
    expect(zero).toThrow(/INVOCATION_MAX_CHARS/);
    expect(fraction).toThrow(/INVOCATION_MAX_CHARS/);
  });

  it('reads MESSAGE_CONCURRENCY between 1 and a batch of 10', () => {
    // Act
    const config = loadIndexerConfig({ ...minimal, MESSAGE_CONCURRENCY: '4' });
    const tooMany = () => loadIndexerConfig({ ...minimal, MESSAGE_CONCURRENCY: '11' });

    // Assess
    expect(config.messageConcurrency).toBe(4);
    expect(tooMany).toThrow(/MESSAGE_CONCURRENCY/);
  });
});
