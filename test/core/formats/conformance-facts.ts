/**
 * How the conformance corpus' neutral facts read from the delimited formats' documents: the event
 * time for all of them, and the field names ALB, NLB and Classic ELB share.
 */
import { toCorpusTimestamp } from '../../support/conformance';
import type { FactReader } from './format-harness';

/** The corpus' event time, from an event's timestamp. */
export const corpusTimestamp: FactReader = (document) =>
  document.timestamp === undefined ? undefined : toCorpusTimestamp(document.timestamp);

/** Fact readers for the ELB family; `format` reads the event type, defaulting to `ownFormat`. */
export function elbFacts(ownFormat: string): Readonly<Record<string, FactReader>> {
  return {
    timestamp: corpusTimestamp,
    client_ip: (document) => document.fields.client_ip,
    client_port: (document) => document.fields.client_port,
    status: (document) => document.fields.elb_status_code,
    method: (document) => document.fields.request_method,
    url: (document) => document.fields.request_url,
    user_agent: (document) => document.fields.user_agent,
    bytes_sent: (document) => document.fields.sent_bytes,
    format: (document) => document.type ?? ownFormat,
  };
}
