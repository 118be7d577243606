/**
 * The processor's byte kernels (`wasm/kernels.c`, compiled to WebAssembly): gzip decompression
 * (libdeflate's, the CRC-32 checked here by zlib's), the raw and the JSON output of a CloudWatch
 * Logs payload's events (the JSON one with the syslog fields of the common headers), and the
 * base64 text of a batch's outputs.
 *
 * Why WebAssembly: most invocations of the processor run in a young process, where a JavaScript
 * byte loop is still interpreted; the module is compiled by the optimising compiler when it is
 * loaded, so the first batch already runs machine code. Why one linear memory for all of it,
 * reused from record to record: on the machines measured, the first touch of a fresh page of
 * memory cost more than the work done on it, and per-record buffers and strings made a batch
 * touch several times its own size.
 */
import { setFlagsFromString } from 'node:v8';
import * as zlib from 'node:zlib';
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
  gzipStoredCrc(): number;
  crc32(input: number, length: number): number;
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
/**
 * Texts are made into strings once this much of them is in the arena: the arena's memory is then
 * used again for the next ones, so a batch touches one arena's worth of memory, not two copies of
 * its whole response (the arena and the strings). A text longer than this gets a string of its
 * own (see {@link Base64Batch.add}), so the arena never holds more than twice this.
 */
const TEXT_CHUNK_BYTES = 1024 * 1024;
/** The base64 arena, at the start of the kernels' memory, before anything a record uses. */
const ARENA_BYTES = 2 * TEXT_CHUNK_BYTES;
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
 * The instance of the kernels, with a memory of its own, grown as needed and never shrunk. Its
 * memory holds, after the module's own data and stack, the batch's base64 arena (a fixed region),
 * then what a record needs: its data, payload and output, reused from record to record. One
 * memory, so that an output is encoded where the kernel wrote it, without a copy.
 */
class KernelInstance {
  private readonly memory = new wasm.Memory({ initial: INITIAL_PAGES });
  readonly kernels: KernelExports;
  /** Where the base64 arena of {@link ARENA_BYTES} starts. */
  readonly arenaAt: number;
  /** The first byte a record may use: the module's own data, its stack and the arena lie below. */
  readonly base: number;
  private view: Uint8Array;

  constructor() {
    this.kernels = new wasm.Instance(kernelModule, { env: { memory: this.memory } }).exports as KernelExports;
    this.arenaAt = alignUp(this.kernels.__heap_base.value);
    this.base = this.arenaAt + ARENA_BYTES;
    this.view = new Uint8Array(this.memory.buffer);
    // Only reserved: a page of it is touched, and costs, when the arena or a record first reaches it.
    this.reserve(INITIAL_PAGES * PAGE_BYTES);
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

/**
 * The JSON kernel's constants (kernels.c's `json_constants`): 64-byte slots (a length byte, the
 * text) of the 24 facility members, then of the 8 severity members, then the shared members.
 */
const CONSTANT_SLOT = 64;
const FACILITY_SLOTS = 24;
const SEVERITY_SLOTS = 8;
const SOURCE_AT = CONSTANT_SLOT * (FACILITY_SLOTS + SEVERITY_SLOTS);

/** A new instance, with the syslog members the JSON kernel copies written once. */
function newKernelInstance(): KernelInstance {
  const instance = new KernelInstance();
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
  const memory = instance.reserve(0);
  const at = instance.kernels.jsonConstants();
  members.forEach((member, slot) => {
    const bytes = Buffer.from(member, 'latin1');
    if (bytes.length >= CONSTANT_SLOT) throw new Error(`syslog member too long for its slot: ${member}`);
    memory[at + slot * CONSTANT_SLOT] = bytes.length;
    memory.set(bytes, at + slot * CONSTANT_SLOT + 1);
  });
  return instance;
}

/**
 * The instance every kernel call uses, made when the processor loads, as its module is compiled
 * then: the memory is only reserved until a batch uses it.
 */
const sharedInstance = newKernelInstance();

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
  const instance = sharedInstance;
  // The raw output is never longer than the events.
  const place = placeEvents(instance, payload, eventsStart, payload.length - eventsStart);
  const written = instance.kernels.scanRawEvents(place.eventsAt, place.length, place.outAt);
  return written < 0 ? undefined : eventsOutput(instance, place.memory, place.outAt, written);
}

/** Where a payload's events lie in the kernels' memory, and where their output goes. */
interface EventsPlace {
  readonly eventsAt: number;
  readonly length: number;
  readonly outAt: number;
  readonly memory: Uint8Array;
}

/**
 * Places a payload's events in the kernels' memory, with `outputRoom` bytes for their output
 * after them. A payload the kernel decompressed is read where it is (room for its raw
 * output was kept after it); any other is copied in.
 */
function placeEvents(
  instance: KernelInstance,
  payload: Buffer,
  eventsStart: number,
  outputRoom: number,
): EventsPlace {
  const { base } = instance;
  const inPlace = instance.holds(payload);
  const eventsAt = inPlace ? payload.byteOffset + eventsStart : base;
  const length = payload.length - eventsStart;
  const outAt = rawOutputAt(eventsAt + length);
  const memory = instance.reserve(outAt + outputRoom + SLACK - base);
  if (!inPlace) memory.set(payload.subarray(eventsStart), base);
  return { eventsAt, length, outAt, memory };
}

/** A kernel's output of `written` bytes at `outAt`, with the events' count and times. */
function eventsOutput(
  instance: KernelInstance,
  memory: Uint8Array,
  outAt: number,
  written: number,
): EventsOutput {
  const { kernels } = instance;
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
  const instance = sharedInstance;
  const { base, kernels } = instance;
  const shared = Buffer.from(options.sharedMembers, 'utf8');
  if (shared.length > kernels.sourceRoom()) return undefined;
  // Room for the usual JSON lines, about twice the events; the kernel asks for more when not.
  let capacity = 2 * (payload.length - eventsStart) + 4096;
  const { eventsAt, length, outAt, ...place } = placeEvents(instance, payload, eventsStart, capacity);
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
      memory = instance.reserve(outAt + capacity - base);
      written = kernels.resumeJsonEvents(-1, capacity);
    }
  }
  return eventsOutput(instance, memory, outAt, written);
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
  const instance = sharedInstance;
  const { base, kernels } = instance;
  const gzipped = Buffer.from(instance.reserve(alignUp(length)).buffer, base, length);
  if (gzipped.write(base64, 'base64') !== length) return undefined;
  // The trailer's ISIZE: the member's size modulo 2^32, which libdeflate checks.
  const size = gzipped.readUInt32LE(length - 4);
  if (size > maxBytes) return undefined;
  const payloadAt = base + alignUp(length);
  // Room for the payload and for its raw output, so that reading it grows nothing.
  const memory = instance.reserve(rawOutputAt(payloadAt + size) + size + SLACK - base);
  const written = kernels.gunzipMember(base, length, payloadAt, size);
  if (written < 0 || kernels.gzipInputUsed() !== length) return undefined;
  const payload = Buffer.from(memory.buffer, memory.byteOffset + payloadAt, written);
  // The kernel leaves the CRC-32 to be checked here (zlib's, about three times as fast as its own).
  const crc = nodeCrc32 === undefined ? kernels.crc32(payloadAt, written) : nodeCrc32(payload);
  return crc >>> 0 === kernels.gzipStoredCrc() >>> 0 ? payload : undefined;
}

/** zlib's CRC-32, in Node since 20.15 and 22.2; the kernels' own where it is missing. */
const nodeCrc32: ((data: Uint8Array) => number) | undefined =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** The length of the (padded) base64 text of `bytes` bytes. */
export function base64LengthOf(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
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
 * The base64 texts of a batch's outputs, each equal to `Buffer#toString('base64')` of its output,
 * written as the outputs are made ({@link add}) into the arena of the kernels' memory. The texts
 * are slices of a few large strings, each made from the arena once it holds
 * {@link TEXT_CHUNK_BYTES}: a response made of a string per record made the garbage collector
 * copy the texts while the rest of the batch was transformed.
 *
 * One batch at a time: the arena is shared, so a batch must be added and read without awaiting
 * anything in between.
 */
export class Base64Batch {
  private readonly instance = sharedInstance;
  private readonly made: string[] = [];
  /** Where each text not yet made into a string ends in the arena. */
  private ends: number[] = [];
  private used = 0;

  /**
   * Encodes `output` and returns its text's index. An output the kernels just wrote (a view of
   * their memory) is encoded where it is; any other is copied into the memory first.
   */
  add(output: Uint8Array): number {
    const { instance } = this;
    if (base64LengthOf(output.length) > TEXT_CHUNK_BYTES) {
      // Node writes a text this long straight into a string of its own (an external one, out of
      // V8's heap), which the arena could only add a copy to.
      this.makeStrings();
      this.made.push(Buffer.from(output.buffer, output.byteOffset, output.length).toString('base64'));
      return this.made.length - 1;
    }
    let inputAt = output.byteOffset;
    if (!instance.holds(output)) {
      instance.reserve(output.length).set(output, instance.base);
      inputAt = instance.base;
    }
    // The arena holds less than a chunk before this text and at most a chunk of it, so it fits.
    this.used += instance.kernels.base64Encode(inputAt, output.length, instance.arenaAt + this.used);
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
    const { instance } = this;
    const arena = Buffer.from(instance.reserve(0).buffer, instance.arenaAt, this.used);
    const text = arena.toString('latin1');
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
