/**
 * The Firehose processor against the AWS Python blueprint (`kinesis-firehose-cloudwatch-logs-
 * processor`, `/work/shared/baselines/`), on identical Firehose events of 1 MB and 6 MB built
 * from realistic CloudWatch Logs syslog payloads. Each measurement runs in a fresh process (as a
 * cold Lambda would); the median of the runs is reported, as input MB/s and as a ratio to the
 * blueprint, for wall clock and for the process's CPU time (the machine is shared).
 *
 * What is timed: the blueprint's `list(processRecords(records))`, and the processor's
 * `processFirehoseEvent` with no response limit and re-ingestion off, so both transform every
 * record in full. Then, with the real 6 MB limit, how many records an event of each processor
 * buffer size would have to re-ingest.
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
import type { OutputFormat } from '../lambdas/firehose-processor/config';
import { MAX_RESPONSE_BYTES, processFirehoseEvent } from '../lambdas/firehose-processor/process-event';
import { randomGenerator } from './alb-log-generator';

const BLUEPRINT_DIR = '/work/shared/baselines';
const EVENT_SIZES_MB = [1, 6] as const;
const DATA_DIR = path.join(tmpdir(), 'logpipe-bench-firehose');
const RESULTS_FILE = path.join(__dirname, 'results-firehose.json');
const PARTITION_KEYS = ['logGroup', 'logStream', 'year', 'month', 'day', 'hour'] as const;

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

/** A Firehose event of about `targetBytes` of JSON, of CloudWatch Logs records from one hour. */
function buildEvent(targetBytes: number, seed: number): FirehoseTransformationEvent {
  const random = randomGenerator(seed);
  const hourStart = Date.UTC(2024, 2, 10, 13);
  const records: FirehoseTransformationEvent['records'] = [];
  let bytes = 200;
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
    const data = gzipSync(JSON.stringify(payload)).toString('base64');
    const record = {
      recordId: `49546986683135544286507457936321625675700192471156785154${String(records.length).padStart(6, '0')}`,
      approximateArrivalTimestamp: hourStart + 3_600_000,
      data,
    };
    records.push(record);
    bytes += JSON.stringify(record).length + 1;
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
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly outputBytes: number;
}

/** Runs inside the child: loads the event, times one transformation, prints the timing as JSON. */
async function worker(format: OutputFormat, file: string): Promise<void> {
  const event = JSON.parse(readFileSync(file, 'utf8')) as FirehoseTransformationEvent;
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const { response } = await processFirehoseEvent(event, {
    config,
    maxResponseBytes: Number.POSITIVE_INFINITY,
  });
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const outputBytes = response.records.reduce((sum, record) => sum + (record.data?.length ?? 0), 0);
  if (response.records.some((record) => record.result !== 'Ok')) throw new Error('a record was not Ok');
  console.log(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1e3, outputBytes }));
}

const PYTHON_WORKER = `
import json, sys, time
sys.path.insert(0, ${JSON.stringify(BLUEPRINT_DIR)})
from cwl_firehose_processor_blueprint import processRecords
with open(sys.argv[1]) as f:
    event = json.load(f)
wall, cpu = time.perf_counter(), time.process_time()
records = list(processRecords(event["records"]))
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
assert all(r["result"] == "Ok" for r in records)
print(json.dumps({"wallMs": wall * 1e3, "cpuMs": cpu * 1e3, "outputBytes": sum(len(r.get("data", b"")) for r in records)}))
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

function measure(implementation: 'blueprint' | OutputFormat, file: string, worker: string): Timing {
  const child =
    implementation === 'blueprint'
      ? spawnSync('python3', ['-c', PYTHON_WORKER, file], { encoding: 'utf8' })
      : spawnSync(process.execPath, [worker, '--worker', implementation, file], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`${implementation} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as Timing;
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

// ---------------------------------------------------------------------------------------------
// How much of a batch of each processor buffer size would have to be re-ingested.

/** A batch of `bufferMb` as Firehose sends it: it buffers the records' (gzip'd) bytes, then base64s them. */
function bufferedEvent(bufferMb: number): { event: FirehoseTransformationEvent; bufferedBytes: number } {
  const event = buildEvent((bufferMb * 1_000_000 * 4) / 3, 7);
  const bufferedBytes = event.records.reduce(
    (sum, record) => sum + Buffer.from(record.data, 'base64').length,
    0,
  );
  return { event, bufferedBytes };
}

/** Response bytes per buffered (gzip'd) byte: how much the data grows from Firehose's buffer to the response. */
async function expansion(format: OutputFormat): Promise<number> {
  const { event, bufferedBytes } = bufferedEvent(1);
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const { counts } = await processFirehoseEvent(event, {
    config,
    maxResponseBytes: Number.POSITIVE_INFINITY,
  });
  return counts.responseBytes / bufferedBytes;
}

async function overflowAt(bufferMb: number, format: OutputFormat) {
  const { event } = bufferedEvent(bufferMb);
  const config = { outputFormat: format, partitionKeys: PARTITION_KEYS };
  const { counts } = await processFirehoseEvent(event, {
    config,
    senderFor: () => ({ send: async (entries) => entries.map(() => undefined) }),
  });
  return { records: counts.records, reingested: counts.overflowRecords, responseBytes: counts.responseBytes };
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
      `median of ${runs} fresh processes each; MB/s of event JSON; (Nx) = blueprint time / this time`,
  );
  mkdirSync(DATA_DIR, { recursive: true });
  const worker = await bundledWorker();
  const events = [];
  for (const sizeMb of EVENT_SIZES_MB) {
    const file = eventFile(sizeMb);
    const inputBytes = readFileSync(file).length;
    const implementations = ['blueprint', 'raw', 'json'] as const;
    const timings = new Map<string, Timing[]>(implementations.map((name) => [name, []]));
    // Interleaved, so that a busy moment on the machine does not fall on one implementation only.
    for (let run = 0; run < runs; run++) {
      for (const name of implementations) timings.get(name)?.push(measure(name, file, worker));
    }
    const summary = Object.fromEntries(
      [...timings].map(([name, runsOf]) => [
        name,
        {
          wallMs: median(runsOf.map((timing) => timing.wallMs)),
          cpuMs: median(runsOf.map((timing) => timing.cpuMs)),
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
        { wall: baseline.wallMs / result.wallMs, cpu: baseline.cpuMs / result.cpuMs },
      ]),
    );
    for (const [name, result] of Object.entries(summary)) {
      const ratio = ratios[name] ?? { wall: 0, cpu: 0 };
      const target = name === 'raw' || name === 'json' ? ` (target ${TARGETS[name]}x)` : '';
      console.log(
        `${sizeMb} MB event ${name.padEnd(9)} wall ${result.wallMs.toFixed(0).padStart(5)} ms = ` +
          `${(inputBytes / 1e3 / result.wallMs).toFixed(1).padStart(5)} MB/s (${ratio.wall.toFixed(2)}x)  ` +
          `cpu ${result.cpuMs.toFixed(0).padStart(5)} ms (${ratio.cpu.toFixed(2)}x)${target}  ` +
          `output ${(result.outputBytes / 1e6).toFixed(1)} MB base64`,
      );
    }
    events.push({ sizeMb, inputBytes, results: summary, ratios });
  }
  const growth = { raw: await expansion('raw'), json: await expansion('json') };
  for (const format of ['raw', 'json'] as const) {
    console.log(
      `${format}: the response is ${growth[format].toFixed(1)}x the buffered (gzip'd) bytes on this data, so a ` +
        `processor buffer up to ${(MAX_RESPONSE_BYTES / growth[format] / 1e6).toFixed(2)} MB needs no re-ingestion`,
    );
  }
  const buffers = [];
  for (const bufferMb of [0.2, 0.5, 1, 3]) {
    const raw = await overflowAt(bufferMb, 'raw');
    const json = await overflowAt(bufferMb, 'json');
    buffers.push({ bufferMb, raw, json });
    const describe = (result: typeof raw) =>
      `${result.reingested}/${result.records} records re-ingested, response ${(result.responseBytes / 1e6).toFixed(2)} MB`;
    console.log(`processor buffer ${bufferMb} MB: raw ${describe(raw)}; json ${describe(json)}`);
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
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

if (process.argv[2] === '--worker') {
  worker(process.argv[3] as OutputFormat, process.argv[4] ?? '').catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
