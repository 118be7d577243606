/**
 * The Firehose processor against the AWS Python blueprint (`kinesis-firehose-cloudwatch-logs-
 * processor`, `/work/shared/baselines/`), on identical Firehose events of 1 MB and 6 MB built
 * from realistic CloudWatch Logs syslog payloads. Each measurement runs in a fresh process (as a
 * cold Lambda would); the median of the runs is reported, as input MB/s and as a ratio to the
 * blueprint, for wall clock and for the process's CPU time (the machine is shared).
 *
 * What is timed: the blueprint's `list(processRecords(records))`, and the processor's
 * `processFirehoseEvent` with no response limit and re-ingestion off, so both transform every
 * record in full: first in the fresh process (what the targets are about), then the same event
 * again in that process, as a warm Lambda handles its next batch (V8 has compiled the hot code by
 * then). Then, with the real 6 MB limit, how many records a full processor buffer of each size
 * would have to re-ingest, and whether the buffer the stack configures for each output format
 * (`DEFAULT_PROCESSOR_BUFFER_MIB`) is answered without any. Each process also reports how long it
 * took from its spawn to being ready (interpreter, implementation loaded; the processor's
 * WebAssembly kernels are compiled then), as a Lambda's init phase: reported, not part of the ratios.
 * And for each output's size, what making that many bytes of strings alone costs a fresh process
 * (the least any implementation pays for such a response: their memory is touched for the first time).
 * And a warm Lambda's steady state (the median batch of a process after its second), with glibc's
 * malloc defaults and with the processor function's malloc settings (`malloc-environment.ts`),
 * given to the blueprint too. The targets' ratios are taken with glibc's defaults on both sides.
 *
 * The blueprint needs boto3 to import: `apt-get install -y python3-boto3` (Debian).
 *
 * The processor runs as the Lambda does: bundled by esbuild, in plain Node (no TypeScript loader).
 *
 * `npm run bench` runs it after its own cases; alone: `npx tsx bench/firehose.ts [runs]` (default 7, at
 * least 5). Results go to `bench/results-firehose.json` and a table on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { DEFAULT_PROCESSOR_BUFFER_MIB } from '../lambdas/firehose-processor/buffer-size';
import type { OutputFormat } from '../lambdas/firehose-processor/config';
import { PROCESSOR_MALLOC_ENVIRONMENT } from '../lambdas/firehose-processor/malloc-environment';
import { MAX_RESPONSE_BYTES, processFirehoseEvent } from '../lambdas/firehose-processor/process-event';
import { randomGenerator } from './alb-log-generator';

const BLUEPRINT_DIR = '/work/shared/baselines';
const EVENT_SIZES_MB = [1, 6] as const;
const DATA_DIR = path.join(tmpdir(), 'logpipe-bench-firehose');
const RESULTS_FILE = path.join(__dirname, 'results-firehose.json');
const PARTITION_KEYS = ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'] as const;
const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Realistic CloudWatch Logs payloads: syslog lines (RFC 3164 and 5424) of a fleet of hosts,
// with the addresses, ports, pids and ids that keep gzip from shrinking them unrealistically.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function syslogLine(random: () => number, host: string, millis: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number) => Math.floor(random() * max);
  const ip = () => `10.${int(256)}.${int(256)}.${int(256)}`;
  const hex = (length: number) => Array.from({ length }, () => '0123456789abcdef'[int(16)]).join('');
  const date = new Date(millis);
  const bsdTime = `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${date.toISOString().slice(11, 19)}`;
  const pid = 1000 + int(60000);
  const body = pick([
    () =>
      `sshd[${pid}]: Accepted publickey for ec2-user from ${ip()} port ${int(65535)} ssh2: RSA SHA256:${hex(43)}`,
    () => `sshd[${pid}]: Connection closed by authenticating user root ${ip()} port ${int(65535)} [preauth]`,
    () =>
      `kernel: [${int(900000)}.${int(999999)}] IPTables-Dropped: IN=eth0 OUT= SRC=${ip()} DST=${ip()} LEN=${40 + int(1400)} PROTO=TCP SPT=${int(65535)} DPT=${pick([22, 443, 3389, 5432])}`,
    () => `systemd[1]: Started Session ${int(90000)} of user ec2-user.`,
    () => `CRON[${pid}]: (root) CMD (/usr/local/bin/backup --target s3://backups-${hex(8)}/ --quiet)`,
    () =>
      `nginx[${pid}]: ${ip()} - - "GET /api/v1/orders/${hex(12)}?page=${int(50)} HTTP/1.1" ${pick([200, 200, 200, 304, 404, 500])} ${int(90000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=${(random() * 2).toFixed(3)}`,
    () => `dhclient[${pid}]: DHCPREQUEST for ${ip()} on eth0 to ${ip()} port 67 (xid=0x${hex(8)})`,
  ])();
  if (random() < 0.3) {
    // RFC 5424, as rsyslog's RSYSLOG_SyslogProtocol23Format writes it.
    const [app, rest] = body.split(/: (.*)/s) as [string, string];
    const appName = app.replace(/\[\d+\]$/, '');
    return `<${8 * pick([1, 3, 4, 10, 16]) + pick([3, 4, 5, 6])}>1 ${date.toISOString()} ${host} ${appName} ${pid} - - ${rest}`;
  }
  return `<${8 * pick([1, 3, 4, 10]) + pick([3, 4, 5, 6])}>${bsdTime} ${host} ${body}`;
}

/**
 * A Firehose event of CloudWatch Logs records from one hour: records are added until the event's
 * JSON reaches `targetBytes`, or with `measure: 'buffered'` until the records' data as Firehose
 * buffers it (the gzip'd payloads, before base64) does, as a processor buffer of that size fills.
 */
function buildEvent(
  targetBytes: number,
  seed: number,
  measure: 'event' | 'buffered' = 'event',
): FirehoseTransformationEvent {
  const random = randomGenerator(seed);
  const hourStart = Date.UTC(2024, 2, 10, 13);
  const records: FirehoseTransformationEvent['records'] = [];
  let bytes = measure === 'event' ? 200 : 0;
  let eventId = 0;
  while (bytes < targetBytes) {
    const host = `ip-10-0-${Math.floor(random() * 8)}-${Math.floor(random() * 250)}`;
    const count = 50 + Math.floor(random() * 300);
    let time = hourStart + Math.floor(random() * 3_000_000);
    const logEvents = Array.from({ length: count }, () => {
      time += Math.floor(random() * 200);
      eventId++;
      return {
        id: `${BigInt(time) * 10n ** 40n + BigInt(eventId)}`.padStart(56, '0'),
        timestamp: time,
        message: syslogLine(random, host, time),
      };
    });
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/ec2/syslog',
      logStream: host,
      subscriptionFilters: ['archive'],
      logEvents,
    };
    const gzipped = gzipSync(JSON.stringify(payload));
    const data = gzipped.toString('base64');
    const record = {
      recordId: `49546986683135544286507457936321625675700192471156785154${String(records.length).padStart(6, '0')}`,
      approximateArrivalTimestamp: hourStart + 3_600_000,
      data,
    };
    records.push(record);
    bytes += measure === 'event' ? JSON.stringify(record).length + 1 : gzipped.length;
  }
  return {
    invocationId: '00000000-0000-4000-8000-000000000000',
    deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs-archive',
    region: 'eu-west-1',
    records,
  };
}

function eventFile(sizeMb: number): string {
  const file = path.join(DATA_DIR, `cwl-syslog-${sizeMb}mb.json`);
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(buildEvent(sizeMb * 1_000_000, 42 + sizeMb)));
  return file;
}

// ---------------------------------------------------------------------------------------------
// One measurement per fresh process.

interface Timing {
  /** The first transformation in a fresh process, as a cold Lambda runs it: what the targets are about. */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The same event again in the same process, as a warm Lambda runs its next batch. */
  readonly warmWallMs: number;
  readonly warmCpuMs: number;
  readonly outputBytes: number;
  /**
   * From the spawn of the process to the moment it is ready to transform (the interpreter started,
   * the implementation loaded: for the processor, its WebAssembly kernels compiled; for the
   * blueprint, boto3 imported), as a Lambda's init phase; not part of the throughput.
   */
  readonly initMs: number;
  /** With more than two batches: the median of the batches after the second, a warm Lambda's steady state. */
  readonly steadyWallMs?: number;
}

/** The environment variable by which a worker learns when it was spawned (epoch milliseconds). */
const SPAWNED_AT = 'LOGPIPE_BENCH_SPAWNED_AT';

/** Epoch milliseconds, with sub-millisecond precision. */
function epochMillis(): number {
  return performance.timeOrigin + performance.now();
}

/** Runs inside the child: loads the event, times its transformation twice, prints the timing as JSON. */
async function worker(format: OutputFormat, file: string, batches: number): Promise<void> {
  const initMs = epochMillis() - Number(process.env[SPAWNED_AT]);
  const event = JSON.parse(readFileSync(file, 'utf8')) as FirehoseTransformationEvent;
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const timed = async () => {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const { response } = await processFirehoseEvent(event, {
      config,
      maxResponseBytes: Number.POSITIVE_INFINITY,
    });
    const used = process.cpuUsage(cpu);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (response.records.some((record) => record.result !== 'Ok')) throw new Error('a record was not Ok');
    const outputBytes = response.records.reduce((sum, record) => sum + (record.data?.length ?? 0), 0);
    return { wallMs, cpuMs: (used.user + used.system) / 1e3, outputBytes };
  };
  const cold = await timed();
  const warm = await timed();
  const later: number[] = [];
  for (let batch = 2; batch < batches; batch++) later.push((await timed()).wallMs);
  const steadyWallMs = later.length > 0 ? median(later) : undefined;
  console.log(
    JSON.stringify({ ...cold, warmWallMs: warm.wallMs, warmCpuMs: warm.cpuMs, initMs, steadyWallMs }),
  );
}

/**
 * Runs inside the child: makes `bytes` of strings from an arena already touched, 1 MiB at a
 * time, as the processor makes its response texts, and prints how long that took. In a fresh
 * process this is the least any implementation pays for a response of that size: every string's
 * memory is touched for the first time.
 */
function stringsWorker(bytes: number): void {
  const arena = Buffer.alloc(MIB, 'A');
  const strings: string[] = [];
  const started = process.hrtime.bigint();
  for (let made = 0; made < bytes; made += MIB)
    strings.push(arena.toString('latin1', 0, Math.min(MIB, bytes - made)));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(JSON.stringify({ wallMs, strings: strings.length }));
}

/** The median time of {@link stringsWorker} for `bytes`, over `runs` fresh processes. */
function stringsFloorMs(bytes: number, worker: string, runs: number): number {
  const times = Array.from({ length: runs }, () => {
    const child = spawnSync(process.execPath, [worker, '--strings', String(bytes)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the strings worker failed: ${child.stderr}`);
    return (JSON.parse(child.stdout.trim()) as { wallMs: number }).wallMs;
  });
  return median(times);
}

const PYTHON_WORKER = `
import json, os, sys, time
sys.path.insert(0, ${JSON.stringify(BLUEPRINT_DIR)})
from cwl_firehose_processor_blueprint import processRecords
init_ms = time.time() * 1e3 - float(os.environ["${SPAWNED_AT}"])
with open(sys.argv[1]) as f:
    event = json.load(f)
def timed():
    wall, cpu = time.perf_counter(), time.process_time()
    records = list(processRecords(event["records"]))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(r["result"] == "Ok" for r in records)
    return wall * 1e3, cpu * 1e3, sum(len(r.get("data", b"")) for r in records)
wall, cpu, output = timed()
warm_wall, warm_cpu, _ = timed()
later = sorted(timed()[0] for _ in range(2, int(sys.argv[2])))
steady = later[len(later) // 2] if later else None
print(json.dumps({"wallMs": wall, "cpuMs": cpu, "warmWallMs": warm_wall, "warmCpuMs": warm_cpu, "outputBytes": output, "initMs": init_ms, "steadyWallMs": steady}))
`;

/** This file bundled as the Lambda is bundled, so the workers run without a TypeScript loader. */
async function bundledWorker(): Promise<string> {
  const outfile = path.join(DATA_DIR, 'firehose-bench.cjs');
  // Imported here, not at the top: the bundled worker must not load esbuild.
  const { buildSync } = await import('esbuild');
  buildSync({
    entryPoints: [__filename],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    external: ['esbuild'],
  });
  return outfile;
}

let python: string | undefined;

/**
 * The Python interpreter itself, not a launcher in front of it (pyenv's `python3` is a shell
 * script that would add its own start-up to the blueprint's init time).
 */
function pythonExecutable(): string {
  python ??=
    spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() ||
    'python3';
  return python;
}

/**
 * One fresh process of `implementation` on `file`: `batches` transformations of the event (at
 * least the cold and the warm one), with `environment` added to this process's.
 */
function measure(
  implementation: 'blueprint' | OutputFormat,
  file: string,
  worker: string,
  {
    batches = 2,
    environment = {},
  }: { batches?: number; environment?: Readonly<Record<string, string>> } = {},
): Timing {
  const env = { ...process.env, ...environment, [SPAWNED_AT]: String(epochMillis()) };
  const args = [file, String(batches)];
  const child =
    implementation === 'blueprint'
      ? spawnSync(pythonExecutable(), ['-c', PYTHON_WORKER, ...args], { encoding: 'utf8', env })
      : spawnSync(process.execPath, [worker, '--worker', implementation, ...args], { encoding: 'utf8', env });
  if (child.status !== 0) throw new Error(`${implementation} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as Timing;
}

/** Batches per process for the steady state: the median of those after the second is taken. */
const STEADY_BATCHES = 30;
const IMPLEMENTATIONS = ['blueprint', 'raw', 'json'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

/**
 * A warm Lambda's steady state on `file`, for every implementation, with glibc's malloc defaults
 * and with the processor function's settings (`PROCESSOR_MALLOC_ENVIRONMENT`) given to all of
 * them alike: the median over `runs` processes of each one's median batch.
 */
function steadyState(file: string, worker: string, runs: number) {
  const settings = { defaults: {}, processorMalloc: PROCESSOR_MALLOC_ENVIRONMENT } as const;
  const times = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const [setting, environment] of Object.entries(settings)) {
      for (const name of IMPLEMENTATIONS) {
        const timing = measure(name, file, worker, { batches: STEADY_BATCHES, environment });
        const key = `${setting}/${name}`;
        times.set(key, [...(times.get(key) ?? []), timing.steadyWallMs ?? Number.NaN]);
      }
    }
  }
  const medianOf = (setting: string) =>
    Object.fromEntries(
      IMPLEMENTATIONS.map((name) => [name, median(times.get(`${setting}/${name}`) ?? [])]),
    ) as Record<Implementation, number>;
  return { defaults: medianOf('defaults'), processorMalloc: medianOf('processorMalloc') };
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

// ---------------------------------------------------------------------------------------------
// How much of a batch of each processor buffer size would have to be re-ingested.

/** A batch as Firehose sends it once `bufferBytes` of (gzip'd) records have filled the processor buffer. */
function bufferedEvent(bufferBytes: number): { event: FirehoseTransformationEvent; bufferedBytes: number } {
  const event = buildEvent(bufferBytes, 7, 'buffered');
  const bufferedBytes = event.records.reduce(
    (sum, record) => sum + Buffer.from(record.data, 'base64').length,
    0,
  );
  return { event, bufferedBytes };
}

/** Response bytes per buffered (gzip'd) byte: how much the data grows from Firehose's buffer to the response. */
async function expansion(format: OutputFormat): Promise<number> {
  const { event, bufferedBytes } = bufferedEvent(MIB);
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const { counts } = await processFirehoseEvent(event, {
    config,
    maxResponseBytes: Number.POSITIVE_INFINITY,
  });
  return counts.responseBytes / bufferedBytes;
}

/** A full processor buffer of `bufferMiB`, answered with the real response limit and re-ingestion on. */
async function overflowAt(bufferMiB: number, format: OutputFormat) {
  const { event, bufferedBytes } = bufferedEvent(bufferMiB * MIB);
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const { counts } = await processFirehoseEvent(event, {
    config,
    senderFor: () => ({ send: async (entries) => entries.map(() => undefined) }),
  });
  return {
    bufferedBytes,
    records: counts.records,
    reingested: counts.overflowRecords + counts.splitRecords,
    reingestedPayloads: counts.reingestedPayloads,
    responseBytes: counts.responseBytes,
  };
}

/** Throughput targets, as multiples of the blueprint's. */
const TARGETS: Readonly<Record<OutputFormat, number>> = { raw: 1.5, json: 1.0 };

async function main(): Promise<void> {
  const runs = Math.max(5, Number(process.argv[2] ?? 7));
  const blueprintCheck = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
  if (blueprintCheck.status !== 0)
    throw new Error('the blueprint needs boto3: apt-get install -y python3-boto3 (Debian package)');
  console.log(
    `\nFirehose processor vs the AWS blueprint (python3; boto3 from the Debian package python3-boto3), ` +
      `median of ${runs} fresh processes each; MB/s of event JSON; (Nx) = blueprint time / this time; ` +
      'the targets are about the first event of a fresh process (a cold Lambda)',
  );
  mkdirSync(DATA_DIR, { recursive: true });
  const worker = await bundledWorker();
  const events = [];
  for (const sizeMb of EVENT_SIZES_MB) {
    const file = eventFile(sizeMb);
    const inputBytes = readFileSync(file).length;
    const timings = new Map<string, Timing[]>(IMPLEMENTATIONS.map((name) => [name, []]));
    // Interleaved, so that a busy moment on the machine does not fall on one implementation only.
    for (let run = 0; run < runs; run++) {
      for (const name of IMPLEMENTATIONS) timings.get(name)?.push(measure(name, file, worker));
    }
    const summary = Object.fromEntries(
      [...timings].map(([name, runsOf]) => [
        name,
        {
          wallMs: median(runsOf.map((timing) => timing.wallMs)),
          cpuMs: median(runsOf.map((timing) => timing.cpuMs)),
          warmWallMs: median(runsOf.map((timing) => timing.warmWallMs)),
          warmCpuMs: median(runsOf.map((timing) => timing.warmCpuMs)),
          initMs: median(runsOf.map((timing) => timing.initMs)),
          outputBytes: runsOf[0]?.outputBytes ?? 0,
          runs: runsOf,
        },
      ]),
    );
    const baseline = summary.blueprint;
    if (baseline === undefined) continue;
    const ratios = Object.fromEntries(
      Object.entries(summary).map(([name, result]) => [
        name,
        {
          wall: baseline.wallMs / result.wallMs,
          cpu: baseline.cpuMs / result.cpuMs,
          warmWall: baseline.warmWallMs / result.warmWallMs,
          warmCpu: baseline.warmCpuMs / result.warmCpuMs,
          // Run by run (the implementations ran one after the other in each round), which a slow
          // drift of the machine's speed moves less than the ratio of the medians.
          pairedWall: median(
            result.runs.map((run, index) => (baseline.runs[index]?.wallMs ?? 0) / run.wallMs),
          ),
        },
      ]),
    );
    // What making the response's strings alone costs a fresh process, for each format's output.
    const floor = {
      raw: stringsFloorMs(summary.raw?.outputBytes ?? 0, worker, runs),
      json: stringsFloorMs(summary.json?.outputBytes ?? 0, worker, runs),
    };
    for (const [name, result] of Object.entries(summary)) {
      const ratio = ratios[name] ?? { wall: 0, cpu: 0, warmWall: 0, warmCpu: 0, pairedWall: 0 };
      const target = name === 'raw' || name === 'json' ? ` (target ${TARGETS[name]}x)` : '';
      console.log(
        `${sizeMb} MB event ${name.padEnd(9)} wall ${result.wallMs.toFixed(0).padStart(5)} ms = ` +
          `${(inputBytes / 1e3 / result.wallMs).toFixed(1).padStart(5)} MB/s (${ratio.wall.toFixed(2)}x, ` +
          `paired ${ratio.pairedWall.toFixed(2)}x)  ` +
          `cpu ${result.cpuMs.toFixed(0).padStart(5)} ms (${ratio.cpu.toFixed(2)}x)${target}  ` +
          `output ${(result.outputBytes / 1e6).toFixed(1)} MB base64; warm (2nd event, same process) ` +
          `wall ${result.warmWallMs.toFixed(0)} ms (${ratio.warmWall.toFixed(2)}x) cpu ${result.warmCpuMs.toFixed(0)} ms (${ratio.warmCpu.toFixed(2)}x); ` +
          `init (spawn to ready) ${result.initMs.toFixed(0)} ms`,
      );
    }
    for (const format of ['raw', 'json'] as const) {
      console.log(
        `${sizeMb} MB event ${format}: making its ${((summary[format]?.outputBytes ?? 0) / 1e6).toFixed(1)} MB of ` +
          `response strings alone takes a fresh process ${floor[format].toFixed(0)} ms, ` +
          `${((100 * floor[format]) / baseline.wallMs).toFixed(0)}% of the blueprint's whole time`,
      );
    }
    const steady = steadyState(file, worker, runs);
    for (const [setting, label] of [
      ['defaults', "glibc's malloc defaults"],
      ['processorMalloc', "the processor function's malloc settings, for all three"],
    ] as const) {
      const times = steady[setting];
      const relative = (name: Implementation) =>
        `${name} ${times[name].toFixed(0)} ms (${(times.blueprint / times[name]).toFixed(2)}x)`;
      console.log(
        `${sizeMb} MB event, steady state (median batch after the second of ${STEADY_BATCHES}), ${label}: ` +
          IMPLEMENTATIONS.map(relative).join(', '),
      );
    }
    events.push({
      sizeMb,
      inputBytes,
      results: summary,
      ratios,
      responseStringsMs: floor,
      steadyState: steady,
    });
  }
  const growth = { raw: await expansion('raw'), json: await expansion('json') };
  for (const format of ['raw', 'json'] as const) {
    console.log(
      `${format}: the response is ${growth[format].toFixed(1)}x the buffered (gzip'd) bytes on this data, so a ` +
        `processor buffer up to ${(MAX_RESPONSE_BYTES / growth[format] / MIB).toFixed(2)} MiB needs no re-ingestion`,
    );
  }
  const buffers = [];
  const describe = (result: Awaited<ReturnType<typeof overflowAt>>) =>
    `${result.reingested}/${result.records} records re-ingested, response ${(result.responseBytes / 1e6).toFixed(2)} MB`;
  for (const bufferMiB of [0.2, 0.5, 1, 3]) {
    const raw = await overflowAt(bufferMiB, 'raw');
    const json = await overflowAt(bufferMiB, 'json');
    buffers.push({ bufferMiB, raw, json });
    console.log(`processor buffer ${bufferMiB} MiB: raw ${describe(raw)}; json ${describe(json)}`);
  }
  // The buffer the stack configures for each output format, filled to the byte.
  const configuredBuffers = [];
  for (const format of ['raw', 'json'] as const) {
    const bufferMiB = DEFAULT_PROCESSOR_BUFFER_MIB[format];
    const result = await overflowAt(bufferMiB, format);
    const fits =
      result.reingested === 0 && result.reingestedPayloads === 0 && result.responseBytes < MAX_RESPONSE_BYTES;
    configuredBuffers.push({ format, bufferMiB, ...result, fits });
    console.log(
      `stack default for ${format} output, ${bufferMiB} MiB buffer (${result.bufferedBytes} bytes buffered): ` +
        `${describe(result)}, ${fits ? 'no re-ingestion' : 'RE-INGESTION NEEDED'}`,
    );
  }
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    python: spawnSync('python3', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    runsPerMeasurement: runs,
    targets: TARGETS,
    events,
    expansion: growth,
    buffers,
    configuredBuffers,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

if (process.argv[2] === '--strings') {
  stringsWorker(Number(process.argv[3]));
} else if (process.argv[2] === '--worker') {
  worker(process.argv[3] as OutputFormat, process.argv[4] ?? '', Number(process.argv[5] ?? 2)).catch(
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
