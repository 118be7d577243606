/**
 * The parsing core's public surface: callers (the indexer, the Firehose processor, the CLI, the
 * benchmark) import from here. Nothing in the core imports Lambda or the AWS SDK.
 */

export {
  BulkBatcher,
  type BulkBody,
  type BulkDocument,
  type BulkLimits,
  bulkActionLine,
  DEFAULT_MAX_BULK_BYTES,
  DEFAULT_MAX_BULK_DOCUMENTS,
  type OversizedDocument,
} from './bulk';
export { type BulkBatch, BulkEncoding, encodeBulk } from './bulk-encoder';
export {
  DEFAULT_INDEX_PREFIX,
  DocumentBuilder,
  type DocumentProblem,
  type DocumentSettings,
  generatedDocumentId,
  indexPrefixProblem,
  objectIdentityHash,
  objectLocation,
  type SearchDocument,
} from './documents';
export { detectFormatByContent, detectFormatByKey, formatByName, LOG_FORMATS } from './formats';
export * from './json';
export {
  formatOptionsOf,
  type LogSource,
  LogSourceSchema,
  LogSourcesSchema,
  resolveLogSource,
  sourceMatchesKey,
} from './log-sources';
export {
  DEFAULT_READ_LIMITS,
  type FirstLine,
  type LineBatch,
  LogObjectReader,
  openLogObject,
  type ReadItem,
  type ReadLimits,
  type ReadPosition,
  type ReadStart,
  type RecordBatch,
  readRecords,
} from './object-reader';
export {
  type DocumentItem,
  type FormatSource,
  ObjectParse,
  type ParseBatch,
  type ParseItem,
  type ParseObjectRequest,
  type ParseSummary,
  parseObject,
  type RejectedItem,
} from './parse-object';
export * from './time';
export * from './types';
