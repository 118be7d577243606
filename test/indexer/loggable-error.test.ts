import { errors } from '@opensearch-project/opensearch';
import { loggableError } from '../../lambdas/indexer/loggable-error';
import { OpenSearchUnavailableError } from '../../lambdas/shared/opensearch/bulk-sink';

describe('loggableError', () => {
  it('keeps names, messages and progress but not the bulk request an OpenSearch error carries', () => {
    // Prepare: what the client attaches to a failed bulk request, with a 5 MiB body.
    const bulkBody = '{"create":{}}\n{"field":"value"}\n'.repeat(160_000);
    const connectionError = new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200', {
      body: undefined,
      statusCode: null,
      headers: null,
      meta: { request: { params: { method: 'POST', path: '/_bulk', body: bulkBody } } },
    } as never);
    const progress = { indexed: 10, duplicates: 0, quarantined: 0, retried: 2, requests: 3 };
    const error = new OpenSearchUnavailableError('OpenSearch did not take 5 documents', progress, {
      cause: connectionError,
    });

    // Act
    const logged = loggableError(error);

    // Assess
    expect(JSON.stringify(logged).length).toBeLessThan(10_000);
    expect(logged).toEqual({
      name: 'OpenSearchUnavailableError',
      message: 'OpenSearch did not take 5 documents',
      stack: error.stack,
      progress,
      cause: {
        name: 'ConnectionError',
        message: 'connect ECONNREFUSED 127.0.0.1:9200',
        stack: connectionError.stack,
      },
    });
  });

  it('cuts long messages, stops following a looping cause chain, and accepts non-errors', () => {
    // Prepare
    const looping = new Error('x'.repeat(50_000));
    looping.cause = looping;

    // Act
    const logged = loggableError(looping);
    const thrownString = loggableError('plain text');

    // Assess
    expect(logged.message).toHaveLength(2_000 + '… (50000 chars)'.length);
    expect(logged.cause?.cause?.cause?.cause).toBeUndefined();
    expect(logged.cause?.cause?.cause?.name).toBe('Error');
    expect(thrownString).toEqual({ name: 'string', message: 'plain text' });
  });
});
