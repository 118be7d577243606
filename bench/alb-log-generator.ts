/**
 * A realistic, reproducible ALB access log for the benchmark: varied client addresses, URLs, user
 * agents and status codes, `-` where ALB writes it (no target, no TLS), `-1` timings for requests
 * that never reached a target, and user agents with escaped quotes. Generated once and cached
 * under `bench/tmp/` (git-ignored).
 *
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** Where generated inputs are cached. */
export const BENCH_TMP = path.join(__dirname, 'tmp');

/** Deterministic PRNG (mulberry32), so every machine benchmarks the same bytes. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'curl/8.5.0',
  'aws-sdk-js/3.572.0 ua/2.0 os/linux#6.1 lang/js md/nodejs#20.12.2 api/s3#3.572.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'ELB-HealthChecker/2.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  // ALB escapes a double quote inside a quoted field as \".
  'Mozilla/5.0 (compatible; \\"quoted\\" crawler/1.0)',
  '-',
];
const PATHS = [
  '/',
  '/index.html',
  '/api/v1/orders',
  '/api/v1/orders/8f14e45f-ceea-467f-a9c2-0a1b2c3d4e5f',
  '/api/v2/search',
  '/static/js/app.3f9a1c.js',
  '/static/css/main.b41d.css',
  '/images/products/large/12345.jpg',
  '/health',
  '/login',
  '/cart/checkout',
  '/wp-login.php',
];
const QUERIES = [
  '',
  '',
  '',
  '?q=shoes&page=2',
  '?id=42',
  '?utm_source=news&utm_medium=email',
  '?sort=price%20asc',
];
const STATUSES = [
  200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 304, 400, 403, 404, 404, 500, 502, 503,
  460,
];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'];
const HOSTS = ['www.example.com', 'api.example.com', 'shop.example.org'];
const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-targets/73e2d6bc24d8a067';
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

function hex(random: () => number, length: number): string {
  let text = '';
  while (text.length < length)
    text += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return text.slice(0, length);
}

function clientAddress(random: () => number): string {
  if (random() < 0.05) return `[2001:db8:${hex(random, 4)}::${hex(random, 4)}]`;
  const octet = () => Math.floor(random() * 256);
  return `${octet()}.${octet()}.${octet()}.${octet()}`;
}

/** One ALB access log line at `epochMillis` (without the line feed). */
function albLine(random: () => number, epochMillis: number): string {
  const micros = String(Math.floor(random() * 1000)).padStart(3, '0');
  const time = new Date(epochMillis).toISOString().replace('Z', `${micros}Z`);
  const https = random() < 0.7;
  const type = https ? (random() < 0.2 ? 'h2' : 'https') : 'http';
  const status = pick(random, STATUSES);
  const reachedTarget = status !== 460 && status !== 503 && random() > 0.02;
  const host = pick(random, HOSTS);
  const port = https ? 443 : 80;
  const url = `${https ? 'https' : 'http'}://${host}:${port}${pick(random, PATHS)}${pick(random, QUERIES)}`;
  const target = reachedTarget
    ? `10.0.${Math.floor(random() * 4)}.${Math.floor(random() * 250) + 2}:8080`
    : '-';
  const timing = () => (reachedTarget ? (random() * 0.05).toFixed(3) : '-1');
  const trace = `Root=1-${hex(random, 8)}-${hex(random, 24)}`;
  const created = new Date(epochMillis - Math.floor(random() * 200)).toISOString().replace('Z', '000Z');
  return [
    type,
    time,
    'app/web-production-alb/50dc6c495c0c9188',
    `${clientAddress(random)}:${1024 + Math.floor(random() * 64000)}`,
    target,
    timing(),
    timing(),
    timing(),
    String(status),
    reachedTarget ? String(status) : '-',
    String(Math.floor(random() * 2000) + 80),
    String(Math.floor(random() * 60000)),
    `"${pick(random, METHODS)} ${url} ${type === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1'}"`,
    `"${pick(random, USER_AGENTS)}"`,
    https ? 'ECDHE-RSA-AES128-GCM-SHA256' : '-',
    https ? 'TLSv1.2' : '-',
    reachedTarget ? TARGET_GROUP : '-',
    `"${trace}"`,
    https ? `"${host}"` : '"-"',
    https ? `"${CERT}"` : '"-"',
    String(Math.floor(random() * 5)),
    created,
    status === 301 || status === 302 ? '"redirect"' : '"forward"',
    status === 301 || status === 302 ? `"https://${host}:443/"` : '"-"',
    status >= 500 && !reachedTarget ? '"TargetConnectionErrorUnknown"' : '"-"',
    `"${target}"`,
    reachedTarget ? `"${status}"` : '"-"',
    '"-"',
    '"-"',
    `TID_${hex(random, 32)}`,
  ].join(' ');
}

/**
 * Writes an ALB log of about `bytes` (uncompressed) to `file`, gzipped when the name ends in
 * `.gz`. Written to a temporary name first, so an interrupted run never leaves a half file cached.
 */
export async function writeAlbLog(file: string, bytes: number, seed = 20240501): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  const random = randomGenerator(seed);
  const output = createWriteStream(temporary);
  const gzip = file.endsWith('.gz') ? createGzip({ level: 6 }) : undefined;
  const sink = gzip ?? output;
  const done = gzip === undefined ? undefined : pipeline(gzip, output);
  let written = 0;
  let epochMillis = Date.UTC(2024, 4, 1);
  while (written < bytes) {
    let chunk = '';
    while (chunk.length < 1 << 20) {
      epochMillis += Math.floor(random() * 20);
      chunk += `${albLine(random, epochMillis)}\n`;
    }
    written += chunk.length;
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  sink.end();
  if (done !== undefined) await done;
  else await once(output, 'finish');
  renameSync(temporary, file);
}

/** The cached file at `name` under `bench/tmp/`, generated on first use. */
export async function cachedAlbLog(name: string, bytes: number): Promise<string> {
  const file = path.join(BENCH_TMP, name);
  if (!existsSync(file) || statSync(file).size === 0) await writeAlbLog(file, bytes);
  return file;
}
