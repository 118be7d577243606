/**
 * OpenSearch's error bodies, so the test server fails the way a cluster does: one shape for
 * whole-request errors (`{"error":{"root_cause":[...],"type","reason"},"status"}`) and one for
 * per-item bulk errors (`{"type","reason","caused_by"?}`).
 *
 * @see https://docs.opensearch.org/latest/api-reference/common-parameters/
 */

/** The `error` object of a bulk item or a request. */
export interface OpenSearchErrorCause {
  readonly type: string;
  readonly reason: string;
  readonly caused_by?: OpenSearchErrorCause;
  readonly [detail: string]: unknown;
}

/** A failure that becomes an HTTP error response with OpenSearch's envelope. */
export class OpenSearchHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: OpenSearchErrorCause,
  ) {
    super(`${error.type}: ${error.reason}`);
  }

  /** The response body OpenSearch writes for this error. */
  toBody(): unknown {
    const { caused_by: _causedBy, ...rootCause } = this.error;
    return { error: { root_cause: [rootCause], ...this.error }, status: this.status };
  }
}

/** An error cause. */
export function cause(
  type: string,
  reason: string,
  extra: Record<string, unknown> = {},
): OpenSearchErrorCause {
  return { type, reason, ...extra };
}

/** 404 for an index that does not exist. */
export function indexNotFound(index: string): OpenSearchHttpError {
  return new OpenSearchHttpError(
    404,
    cause('index_not_found_exception', `no such index [${index}]`, {
      index,
      'resource.type': 'index_or_alias',
      'resource.id': index,
      index_uuid: '_na_',
    }),
  );
}

/** 400 with `illegal_argument_exception`, OpenSearch's answer to most malformed requests. */
export function illegalArgument(reason: string): OpenSearchHttpError {
  return new OpenSearchHttpError(400, cause('illegal_argument_exception', reason));
}
