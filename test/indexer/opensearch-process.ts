/**
 * The OpenSearch test server in a process of its own, for load tests and the indexer bench: it
 * keeps ids and counts only (no `_source`, no mapping; see `storeSources` and `mapDocuments`), so
 * millions of documents fit and the server keeps up with the indexer, and its CPU and memory stay
 * out of the measured process. Prints `{"url": ...}` on its first stdout line; exits when stdin
 * closes, so a crashed parent leaves no server behind. Started by `startOpenSearchProcess`
 * (`./support.ts`).
 */
import { OpenSearchTestServer } from '../support/opensearch-server';

async function main(): Promise<void> {
  const server = await OpenSearchTestServer.start({
    storeSources: false,
    mapDocuments: false,
    refreshIntervalMs: 1_000,
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = (): void => {
    void server.stop().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
