/**
 * Powertools for AWS Lambda instances, created once at module scope by each handler: a structured
 * JSON logger and an EMF metrics buffer, both tagged with the function's service name.
 *
 * The stack sets `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`; the defaults here
 * keep a handler that runs without them (tests, the CLI) from logging as `service_undefined` or
 * emitting metrics without a namespace.
 *
 * @see https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/
 * @see https://docs.powertools.aws.dev/lambda/typescript/latest/core/metrics/
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The namespace of every metric the pipeline emits, unless `POWERTOOLS_METRICS_NAMESPACE` says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'AwsLogPipeline';

/** A logger for `serviceName`; `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL` still apply. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || serviceName });
}

/** A metrics buffer for `serviceName`; flush it with `publishStoredMetrics()` at the end of each invocation. */
export function createMetrics(serviceName: string): Metrics {
  return new Metrics({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
  });
}
