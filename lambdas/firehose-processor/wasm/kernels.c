/*
 * The Firehose processor's byte kernels, compiled to WebAssembly (scripts/build-wasm.sh writes
 * lambdas/firehose-processor/kernels-wasm.ts). Each runs over the module's own linear memory,
 * which the caller fills and reuses from one record to the next, so that a batch touches the
 * same few pages instead of fresh ones: on the machines measured, a first touch of a page costs
 * more than the work done on it.
 *
 * No libc: the module is freestanding, and every kernel validates what it reads and declines
 * (returns -1) anything it does not read exactly as JSON.parse would, for the JavaScript path.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned int u32;

static double events_earliest;
static double events_latest;
static int events_count;

/** Earliest event time of the last scanRawEvents that succeeded (epoch milliseconds). */
__attribute__((export_name("earliest"))) double earliest(void) { return events_earliest; }
/** Latest event time of the last scanRawEvents that succeeded. */
__attribute__((export_name("latest"))) double latest(void) { return events_latest; }
/** Events read by the last scanRawEvents that succeeded. */
__attribute__((export_name("count"))) int count(void) { return events_count; }

/* Whether the bytes at p are the NUL-terminated literal s (within end). */
static int starts_with(const u8 *p, const u8 *end, const char *s) {
  for (; *s != 0; p++, s++)
    if (p >= end || *p != (u8)*s) return 0;
  return 1;
}

static int hex_digit(u8 c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The code unit of the four hex digits at p, or -1. */
static int hex_unit(const u8 *p) {
  int a = hex_digit(p[0]), b = hex_digit(p[1]), c = hex_digit(p[2]), d = hex_digit(p[3]);
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

static u8 *put_utf8(u8 *o, u32 cp) {
  if (cp < 0x80) {
    *o++ = (u8)cp;
  } else if (cp < 0x800) {
    *o++ = (u8)(0xc0 | (cp >> 6));
    *o++ = (u8)(0x80 | (cp & 63));
  } else if (cp < 0x10000) {
    *o++ = (u8)(0xe0 | (cp >> 12));
    *o++ = (u8)(0x80 | ((cp >> 6) & 63));
    *o++ = (u8)(0x80 | (cp & 63));
  } else {
    *o++ = (u8)(0xf0 | (cp >> 18));
    *o++ = (u8)(0x80 | ((cp >> 12) & 63));
    *o++ = (u8)(0x80 | ((cp >> 6) & 63));
    *o++ = (u8)(0x80 | (cp & 63));
  }
  return o;
}

/*
 * Writes the value of the JSON string whose body starts at p (after the opening quote) as UTF-8
 * at *out, as Buffer.from(JSON.parse(token), 'utf8') would: a lone surrogate becomes U+FFFD.
 * Plain runs go 16 bytes at a time; the copy may write up to 16 bytes past the value, so the
 * output needs that much room after it.
 * Returns the position after the closing quote, or 0 when the token is not valid JSON.
 */
static const u8 *unescape_string(const u8 *p, const u8 *end, u8 **out) {
  u8 *o = *out;
  const v128_t quote = wasm_i8x16_splat('"');
  const v128_t backslash = wasm_i8x16_splat('\\');
  const v128_t space = wasm_i8x16_splat(0x20);
  for (;;) {
    while (p + 16 <= end) {
      v128_t bytes = wasm_v128_load(p);
      v128_t special = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(bytes, quote), wasm_i8x16_eq(bytes, backslash)),
                                    wasm_u8x16_lt(bytes, space));
      wasm_v128_store(o, bytes);
      u32 mask = (u32)wasm_i8x16_bitmask(special);
      if (mask != 0) {
        int plain = __builtin_ctz(mask);
        p += plain;
        o += plain;
        break;
      }
      p += 16;
      o += 16;
    }
    if (p >= end) return 0;
    u8 c = *p;
    if (c == '"') {
      *out = o;
      return p + 1;
    }
    if (c < 0x20) return 0; /* a raw control character: not JSON */
    if (c != '\\') {
      *o++ = c;
      p++;
      continue;
    }
    if (p + 1 >= end) return 0;
    u8 escape = p[1];
    p += 2;
    switch (escape) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = 0x08; break;
      case 'f': *o++ = 0x0c; break;
      case 'n': *o++ = 0x0a; break;
      case 'r': *o++ = 0x0d; break;
      case 't': *o++ = 0x09; break;
      case 'u': {
        if (p + 4 > end) return 0;
        int unit = hex_unit(p);
        if (unit < 0) return 0;
        p += 4;
        u32 cp = (u32)unit;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          int low = (p + 6 <= end && p[0] == '\\' && p[1] == 'u') ? hex_unit(p + 2) : -1;
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + (((u32)unit - 0xd800) << 10) + ((u32)low - 0xdc00);
            p += 6;
          } else {
            cp = 0xfffd;
          }
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          cp = 0xfffd;
        }
        o = put_utf8(o, cp);
        break;
      }
      default: return 0;
    }
  }
}

/*
 * The raw output of a CloudWatch Logs DATA_MESSAGE's events: each message, newline-terminated.
 * `events` points right after `"logEvents":[`, and the payload must end with the array and the
 * object (`]}`). Events must be exactly `{"id":"…","timestamp":N,"message":"…"}` as CloudWatch
 * Logs writes them: an id without escapes, an integer timestamp of at most 15 digits (exact as a
 * double, inside Date's range). The output is never longer than the events' bytes, and `out`
 * needs 16 bytes more than that.
 * Returns the output's length, or -1 to decline.
 */
__attribute__((export_name("scanRawEvents"))) int scanRawEvents(const u8 *events, int length, u8 *out) {
  const u8 *p = events;
  const u8 *end = events + length;
  u8 *o = out;
  int n = 0;
  double low = __builtin_inf(), high = -__builtin_inf();
  if (p < end && *p == ']') {
    p++;
  } else {
    for (;;) {
      if (!starts_with(p, end, "{\"id\":\"")) return -1;
      p += 7;
      while (p < end && *p != '"' && *p != '\\' && *p >= 0x20) p++;
      if (!starts_with(p, end, "\",\"timestamp\":")) return -1;
      p += 14;
      int negative = 0;
      if (p < end && *p == '-') {
        negative = 1;
        p++;
      }
      const u8 *digits = p;
      double time = 0;
      while (p < end && *p >= '0' && *p <= '9') time = time * 10 + (*p++ - '0');
      long width = p - digits;
      if (width == 0 || width > 15 || (width > 1 && *digits == '0')) return -1;
      if (negative) time = -time;
      if (!starts_with(p, end, ",\"message\":\"")) return -1;
      p += 12;
      p = unescape_string(p, end, &o);
      if (p == 0) return -1;
      *o++ = '\n';
      if (p >= end || *p != '}') return -1;
      p++;
      if (time < low) low = time;
      if (time > high) high = time;
      n++;
      if (p >= end) return -1;
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p != ']') return -1;
      p++;
      break;
    }
  }
  if (!(p + 1 == end && *p == '}')) return -1;
  events_earliest = low;
  events_latest = high;
  events_count = n;
  return (int)(o - out);
}

static const char BASE64_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding, as Buffer#toString('base64'). Returns the text's length. */
__attribute__((export_name("base64Encode"))) int base64Encode(const u8 *in, int length, u8 *out) {
  u8 *o = out;
  int i = 0;
  for (; i + 3 <= length; i += 3, o += 4) {
    u32 v = ((u32)in[i] << 16) | ((u32)in[i + 1] << 8) | in[i + 2];
    o[0] = (u8)BASE64_DIGITS[v >> 18];
    o[1] = (u8)BASE64_DIGITS[(v >> 12) & 63];
    o[2] = (u8)BASE64_DIGITS[(v >> 6) & 63];
    o[3] = (u8)BASE64_DIGITS[v & 63];
  }
  int rest = length - i;
  if (rest > 0) {
    u32 v = ((u32)in[i] << 16) | (rest == 2 ? (u32)in[i + 1] << 8 : 0);
    o[0] = (u8)BASE64_DIGITS[v >> 18];
    o[1] = (u8)BASE64_DIGITS[(v >> 12) & 63];
    o[2] = rest == 2 ? (u8)BASE64_DIGITS[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return (int)(o - out);
}

/*
 * gzip decompression by libdeflate (vendor/libdeflate), into the module's memory: the payload is
 * decompressed where the raw kernel then reads it, and nothing is allocated per record.
 * libdeflate is built freestanding, so the few libc functions it uses are here.
 */
#include "libdeflate.h"

void *memset(void *s, int c, size_t n) { return __builtin_memset(s, c, n); }
void *memcpy(void *dest, const void *src, size_t n) { return __builtin_memcpy(dest, src, n); }
void *memmove(void *dest, const void *src, size_t n) { return __builtin_memmove(dest, src, n); }
int memcmp(const void *a, const void *b, size_t n) {
  const u8 *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] - y[i];
  return 0;
}

/* The decompressor is allocated once, from a static area: nothing else allocates. */
static u8 decompressor_area[32768] __attribute__((aligned(64)));
static size_t decompressor_area_used;

static void *area_alloc(size_t size) {
  size_t start = (decompressor_area_used + 63) & ~(size_t)63;
  if (start + size > sizeof(decompressor_area)) return 0;
  decompressor_area_used = start + size;
  return decompressor_area + start;
}

static void area_free(void *pointer) { (void)pointer; }

static struct libdeflate_decompressor *decompressor;
static int gzip_input_used;

/** Input bytes the last successful gunzipMember read: less than given when other members follow. */
__attribute__((export_name("gzipInputUsed"))) int gzipInputUsed(void) { return gzip_input_used; }

/*
 * Decompresses the first gzip member of `in` into `out`, which has room for `capacity` bytes.
 * Returns the decompressed length; -1 when the data is not valid gzip, -2 when it needs more
 * room than `capacity` (the caller then leaves it to zlib, which says exactly what is wrong).
 */
__attribute__((export_name("gunzipMember"))) int gunzipMember(const u8 *in, int length, u8 *out, int capacity) {
  if (decompressor == 0) {
    libdeflate_set_memory_allocator(area_alloc, area_free);
    decompressor = libdeflate_alloc_decompressor();
    if (decompressor == 0) return -1;
  }
  size_t used = 0, written = 0;
  enum libdeflate_result result =
      libdeflate_gzip_decompress_ex(decompressor, in, (size_t)length, out, (size_t)capacity, &used, &written);
  if (result == LIBDEFLATE_INSUFFICIENT_SPACE) return -2;
  if (result != LIBDEFLATE_SUCCESS) return -1;
  gzip_input_used = (int)used;
  return (int)written;
}
