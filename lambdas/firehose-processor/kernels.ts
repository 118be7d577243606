/**
 * The processor's byte kernels (`wasm/kernels.c`, compiled to WebAssembly): gzip decompression
 * (libdeflate's), the raw and the JSON output of a CloudWatch Logs payload's events (the JSON one
 * with the syslog fields of the common headers), and the base64 text of a batch's outputs.
 *
 * Why WebAssembly: most invocations of the processor run in a young process, where a JavaScript
 * byte loop is still interpreted; the module is compiled by the optimising compiler when it is
 * loaded, so the first batch already runs machine code. Why one linear memory per kernel, reused
 * from record to record: on the machines measured, the first touch of a fresh page of memory cost
 * more than the work done on it, and per-record buffers and strings made a batch touch several
 * times its own size.
 */
import { setFlagsFromString } from 'node:v8';
import { SYSLOG_FACILITY_NAMES, SYSLOG_SEVERITY_NAMES, syslogFieldsJson } from '../core/syslog';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

// The WebAssembly API as far as it is used here (the compiler's ES2023 library does not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  readonly value: number;
}
interface KernelExports {
  readonly __heap_base: WasmGlobal;
  gunzipMember(input: number, length: number, out: number, capacity: number): number;
  gzipInputUsed(): number;
  scanRawEvents(events: number, length: number, out: number): number;
  base64Encode(input: number, length: number, out: number): number;
  earliest(): number;
  latest(): number;
  count(): number;
  jsonConstants(): number;
  fieldsBuffer(): number;
  fieldsRoom(): number;
  sourceRoom(): number;
  writeJsonEvents(
    events: number,
    length: number,
    out: number,
    capacity: number,
    sourceLength: number,
  ): number;
  resumeJsonEvents(fieldsLength: number, capacity: number): number;
  pendingMessageStart(): number;
  pendingMessageEnd(): number;
  pendingTime(): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const PAGE_BYTES = 65_536;
/** The module's data and stack (`-z stack-size` in the build), and room for a typical record. */
const INITIAL_PAGES = 8;
/** Room the kernels may write past what they return (16-byte vector stores). */
const SLACK = 16;

/**
 * Compiled once, when the processor loads, by the optimising compiler only, every function before
 * the module is returned. V8 would otherwise start with its baseline compiler, lazily (which made
 * the first batch of a process run the kernels three to seven times slower), or, without lazy
 * compilation, compile baseline code first and optimise in the background, so that the first batch
 * ran baseline code while competing for the CPU with the optimising compiler (about 100 ms of CPU
 * on the machines measured; a Lambda function below 1,769 MB has less than one vCPU to share).
 * Compiling once, before the first batch, costs about 40 ms of load time and less CPU in all.
 * The flags are V8's defaults again afterwards, for any other module.
 */
const kernelModule = (() => {
  const flags = ['wasm-lazy-compilation', 'wasm-dynamic-tiering', 'liftoff'];
  for (const flag of flags) setFlagsFromString(`--no-${flag}`);
  try {
    return new wasm.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  } finally {
    for (const flag of flags) setFlagsFromString(`--${flag}`);
  }
})();

/**
 * One instance of the kernels with a memory of its own, grown as needed and never shrunk: two
 * instances serve the processor, one to decode and write records (a record's data, payload and
 * output, reused from record to record), one for the batch's base64 arena.
 */
class KernelInstance {
  private readonly memory = new wasm.Memory({ initial: INITIAL_PAGES });
  readonly kernels: KernelExports;
  /** The first byte the caller may use: the module's own data and stack lie below. */
  readonly base: number;
  private view: Uint8Array;

  constructor() {
    this.kernels = new wasm.Instance(kernelModule, { env: { memory: this.memory } }).exports as KernelExports;
    this.base = alignUp(this.kernels.__heap_base.value);
    this.view = new Uint8Array(this.memory.buffer);
  }

  /** Whether `bytes` is a view of this memory (as it is now). */
  holds(bytes: Uint8Array): boolean {
    return bytes.buffer === this.memory.buffer;
  }

  /** The memory as bytes, grown so that `bytes` are usable from {@link base}. */
  reserve(bytes: number): Uint8Array {
    const needed = this.base + bytes;
    const size = this.memory.buffer.byteLength;
    // Geometric growth: a batch's arena grows record by record, and every grow costs a remap.
    if (needed > size) this.memory.grow(Math.ceil((Math.max(needed, size * 1.5) - size) / PAGE_BYTES));
    if (this.view.buffer !== this.memory.buffer) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }
}

let scanner: KernelInstance | undefined;

/**
 * The JSON kernel's constants (kernels.c's `json_constants`): 64-byte slots (a length byte, the
 * text) of the 24 facility members, then of the 8 severity members, then the shared members.
 */
const CONSTANT_SLOT = 64;
const FACILITY_SLOTS = 24;
const SEVERITY_SLOTS = 8;
const SOURCE_AT = CONSTANT_SLOT * (FACILITY_SLOTS + SEVERITY_SLOTS);

/** The scanning instance, with the syslog members the JSON kernel copies written once. */
function scannerInstance(): KernelInstance {
  if (scanner !== undefined) return scanner;
  scanner = new KernelInstance();
  const members = [
    ...SYSLOG_FACILITY_NAMES.map((_, facility) =>
      syslogFieldsJson({ protocol: 'rfc3164', facility, message: '' }, false),
    ),
    ...SYSLOG_SEVERITY_NAMES.map((_, severity) =>
      syslogFieldsJson({ protocol: 'rfc3164', severity, message: '' }, false),
    ),
  ];
  if (members.length !== FACILITY_SLOTS + SEVERITY_SLOTS)
    throw new Error("the syslog names do not match the JSON kernel's slots");
  const memory = scanner.reserve(0);
  const at = scanner.kernels.jsonConstants();
  members.forEach((member, slot) => {
    const bytes = Buffer.from(member, 'latin1');
    if (bytes.length >= CONSTANT_SLOT) throw new Error(`syslog member too long for its slot: ${member}`);
    memory[at + slot * CONSTANT_SLOT] = bytes.length;
    memory.set(bytes, at + slot * CONSTANT_SLOT + 1);
  });
  return scanner;
}
let encoder: KernelInstance | undefined;

/** The output of a payload's events (raw or JSON), and what partitioning needs to know of them. */
export interface EventsOutput {
  /**
   * The output lines (each message, or each event's JSON), newline-terminated, as UTF-8: a view
   * of the kernels' memory, valid until the next payload is decoded or read (copy it to keep it).
   */
  readonly output: Buffer;
  readonly count: number;
  /** Earliest and latest event times, epoch milliseconds. */
  readonly earliest: number;
  readonly latest: number;
}

/**
 * The raw output of a CloudWatch Logs payload's events: the same bytes as each message parsed
 * by `JSON.parse`, newline-terminated and encoded as UTF-8 (a lone surrogate as U+FFFD).
 *
 * @param payload the decompressed payload, already known to be valid UTF-8.
 * @param eventsStart where the events begin, right after `"logEvents":[`.
 * @returns undefined when an event is not exactly `{"id":"…","timestamp":N,"message":"…"}` as
 *   CloudWatch Logs writes it, or the payload does not end with the events: the general path
 *   then parses it.
 */
export function rawOutputOfEvents(payload: Buffer, eventsStart: number): EventsOutput | undefined {
  const scanner = scannerInstance();
  // The raw output is never longer than the events.
  const place = placeEvents(scanner, payload, eventsStart, payload.length - eventsStart);
  const written = scanner.kernels.scanRawEvents(place.eventsAt, place.length, place.outAt);
  return written < 0 ? undefined : eventsOutput(scanner, place.memory, place.outAt, written);
}

/** Where a payload's events lie in the scanner's memory, and where their output goes. */
interface EventsPlace {
  readonly eventsAt: number;
  readonly length: number;
  readonly outAt: number;
  readonly memory: Uint8Array;
}

/**
 * Places a payload's events in the scanner's memory, with `outputRoom` bytes for their output
 * after them. A payload the kernel decompressed is read where it is (room for its raw
 * output was kept after it); any other is copied in.
 */
function placeEvents(
  scanner: KernelInstance,
  payload: Buffer,
  eventsStart: number,
  outputRoom: number,
): EventsPlace {
  const { base } = scanner;
  const inPlace = scanner.holds(payload);
  const eventsAt = inPlace ? payload.byteOffset + eventsStart : base;
  const length = payload.length - eventsStart;
  const outAt = rawOutputAt(eventsAt + length);
  const memory = scanner.reserve(outAt + outputRoom + SLACK - base);
  if (!inPlace) memory.set(payload.subarray(eventsStart), base);
  return { eventsAt, length, outAt, memory };
}

/** A kernel's output of `written` bytes at `outAt`, with the events' count and times. */
function eventsOutput(
  scanner: KernelInstance,
  memory: Uint8Array,
  outAt: number,
  written: number,
): EventsOutput {
  const { kernels } = scanner;
  return {
    output: Buffer.from(memory.buffer, memory.byteOffset + outAt, written),
    count: kernels.count(),
    earliest: kernels.earliest(),
    latest: kernels.latest(),
  };
}

/** What the JSON kernel needs besides the payload. */
export interface JsonEventsOptions {
  /** The members every line shares after its id, up to the message's value: `,"logGroup":…,"logStream":…,"message":`. */
  readonly sharedMembers: string;
  /**
   * The syslog fields (JSON members without braces, '' for none) of a message whose header the
   * kernel does not read itself (it reads the common RFC 3164 and RFC 5424 headers).
   */
  readonly syslogFieldsOf: (message: string, timeMillis: number) => string;
}

// writeJsonEvents' answers besides the output's length (kernels.c).
const DECLINE = -1;
const NEED_FIELDS = -2;

/**
 * The JSON output of a CloudWatch Logs payload's events: per event the line
 * `{"timestamp":…,"id":…,"logGroup":…,"logStream":…,"message":…,…syslog fields}`, the same bytes
 * as the general path's `cloudWatchOutputText`. Takes and declines what
 * {@link rawOutputOfEvents} takes and declines, and events outside the years 0 to 9999.
 */
export function jsonOutputOfEvents(
  payload: Buffer,
  eventsStart: number,
  options: JsonEventsOptions,
): EventsOutput | undefined {
  const scanner = scannerInstance();
  const { base, kernels } = scanner;
  const shared = Buffer.from(options.sharedMembers, 'utf8');
  if (shared.length > kernels.sourceRoom()) return undefined;
  // Room for the usual JSON lines, about twice the events; the kernel asks for more when not.
  let capacity = 2 * (payload.length - eventsStart) + 4096;
  const { eventsAt, length, outAt, ...place } = placeEvents(scanner, payload, eventsStart, capacity);
  let memory = place.memory;
  memory.set(shared, kernels.jsonConstants() + SOURCE_AT);
  let written = kernels.writeJsonEvents(eventsAt, length, outAt, capacity, shared.length);
  while (written < 0) {
    if (written === DECLINE) return undefined;
    if (written === NEED_FIELDS) {
      const start = kernels.pendingMessageStart();
      const token = Buffer.from(
        memory.buffer,
        memory.byteOffset + start,
        kernels.pendingMessageEnd() - start,
      );
      const message = JSON.parse(token.toString('utf8')) as string;
      const fields = Buffer.from(options.syslogFieldsOf(message, kernels.pendingTime()), 'utf8');
      if (fields.length > kernels.fieldsRoom()) return undefined;
      memory.set(fields, kernels.fieldsBuffer());
      written = kernels.resumeJsonEvents(fields.length, capacity);
    } else {
      // NEED_ROOM: the output is last in the memory, so it grows in place.
      capacity *= 2;
      memory = scanner.reserve(outAt + capacity - base);
      written = kernels.resumeJsonEvents(-1, capacity);
    }
  }
  return eventsOutput(scanner, memory, outAt, written);
}

/** Where the raw kernel writes the output of events that end at `eventsEnd`. */
function rawOutputAt(eventsEnd: number): number {
  return alignUp(eventsEnd + SLACK);
}

/** The smallest gzip member: a 10-byte header, an empty deflate block and the 8-byte trailer. */
const MIN_GZIP_BYTES = 18;

/**
 * Decodes a record's base64 data and decompresses it, when it is one gzip member, into the
 * kernels' memory, where {@link rawOutputOfEvents} then reads it without a copy: the data is
 * decoded into that memory too, so a record allocates nothing.
 *
 * @param maxBytes the largest decompressed size accepted.
 * @returns a view of the decompressed bytes, valid until the next call of this function or of
 *   {@link rawOutputOfEvents} with another payload; undefined when the data is anything but
 *   strict base64 of one valid gzip member of at most `maxBytes` (several members, a size over
 *   the bound, corrupt data...): the caller then decodes it the general way, which says exactly
 *   what is wrong.
 */
export function gunzipBase64Payload(base64: string, maxBytes: number): Buffer | undefined {
  const length = strictBase64Length(base64);
  if (length === undefined || length < MIN_GZIP_BYTES) return undefined;
  const scanner = scannerInstance();
  const { base, kernels } = scanner;
  const gzipped = Buffer.from(scanner.reserve(alignUp(length)).buffer, base, length);
  if (gzipped.write(base64, 'base64') !== length) return undefined;
  // The trailer's ISIZE: the member's size modulo 2^32, which libdeflate checks.
  const size = gzipped.readUInt32LE(length - 4);
  if (size > maxBytes) return undefined;
  const payloadAt = base + alignUp(length);
  // Room for the payload and for its raw output, so that reading it grows nothing.
  const memory = scanner.reserve(rawOutputAt(payloadAt + size) + size + SLACK - base);
  const written = kernels.gunzipMember(base, length, payloadAt, size);
  if (written < 0 || kernels.gzipInputUsed() !== length) return undefined;
  return Buffer.from(memory.buffer, memory.byteOffset + payloadAt, written);
}

/**
 * The decoded length of strict base64 (padded, length a multiple of 4), or undefined. Whether
 * every character is of the alphabet shows when the decoded length is compared with it: Node
 * skips the others.
 */
export function strictBase64Length(base64: string): number | undefined {
  if (base64.length % 4 !== 0) return undefined;
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/**
 * Texts are made into strings once this much of them is in the arena: the arena's memory is then
 * used again for the next ones, so a batch touches one arena's worth of memory, not two copies of
 * its whole response (the arena and the strings).
 */
const TEXT_CHUNK_BYTES = 1024 * 1024;

/**
 * The base64 texts of a batch's outputs, each equal to `Buffer#toString('base64')` of its output,
 * written as the outputs are made ({@link add}) into an arena of the kernels' memory. The texts
 * are slices of a few large strings, each made from the arena once it holds
 * {@link TEXT_CHUNK_BYTES}: a response made of a string per record made the garbage collector
 * copy the texts while the rest of the batch was transformed.
 *
 * One batch at a time: the arena is shared, so a batch must be added and read without awaiting
 * anything in between.
 */
export class Base64Batch {
  private readonly made: string[] = [];
  /** Where each text not yet made into a string ends in the arena. */
  private ends: number[] = [];
  private used = 0;

  constructor() {
    encoder ??= new KernelInstance();
  }

  /** Encodes `output` (which may be a view of the kernels' memory) and returns its text's index. */
  add(output: Uint8Array): number {
    const instance = encoder as KernelInstance;
    const inputAt = alignUp(this.used + Math.ceil(output.length / 3) * 4);
    const memory = instance.reserve(inputAt + output.length + SLACK);
    memory.set(output, instance.base + inputAt);
    this.used += instance.kernels.base64Encode(
      instance.base + inputAt,
      output.length,
      instance.base + this.used,
    );
    this.ends.push(this.used);
    const index = this.made.length + this.ends.length - 1;
    if (this.used >= TEXT_CHUNK_BYTES) this.makeStrings();
    return index;
  }

  /** The texts of the outputs added, in order. */
  texts(): string[] {
    this.makeStrings();
    return this.made;
  }

  /** Makes the arena's texts into strings (slices of one) and empties the arena. */
  private makeStrings(): void {
    if (this.ends.length === 0) return;
    const instance = encoder as KernelInstance;
    const memory = instance.reserve(this.used);
    const text = Buffer.from(memory.buffer, memory.byteOffset + instance.base, this.used).toString('latin1');
    let start = 0;
    for (const end of this.ends) {
      this.made.push(text.slice(start, end));
      start = end;
    }
    this.ends = [];
    this.used = 0;
  }
}

function alignUp(offset: number): number {
  return Math.ceil(offset / 64) * 64;
}
