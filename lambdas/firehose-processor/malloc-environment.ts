/**
 * The processor function's glibc malloc settings (environment variables glibc reads when the
 * process starts): freed memory is kept for the next batch instead of being returned to the
 * operating system and faulted in again. Shared by the stack, which sets them on the function,
 * and the benchmark, which measures batches with and without them.
 *
 * Why: a batch's response is made of large strings outside V8's heap (malloc'd, about 3 to 10
 * times the batch's input). With glibc's defaults each of them is a fresh `mmap`, given back when
 * the garbage collector frees it, so a warm process touched new pages for every response; the
 * first touch of a page is what most of a batch costs on the machines measured. With allocations
 * up to 32 MiB taken from the heap and the heap never trimmed below 512 MiB, a warm process reuses
 * the pages of responses already collected. The process keeps its peak memory instead (the
 * function's memory size bounds it in any case).
 *
 * @see https://www.gnu.org/software/libc/manual/html_node/Memory-Allocation-Tunables.html
 */
export const PROCESSOR_MALLOC_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(512 * 1024 * 1024),
};
