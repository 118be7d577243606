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
#include <stddef.h>
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

/* The bytes of a 16-byte block that end a JSON string's plain run: `"`, `\` and controls. */
static u32 string_specials(v128_t bytes) {
  v128_t special = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(bytes, wasm_i8x16_splat('"')),
                                             wasm_i8x16_eq(bytes, wasm_i8x16_splat('\\'))),
                                wasm_u8x16_lt(bytes, wasm_i8x16_splat(0x20)));
  return (u32)wasm_i8x16_bitmask(special);
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
  for (;;) {
    while (p + 16 <= end) {
      v128_t bytes = wasm_v128_load(p);
      wasm_v128_store(o, bytes);
      u32 mask = string_specials(bytes);
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

/* ------------------------------------------------------------------------------------------
 * JSON output: per event the line output-format.ts writes,
 * {"timestamp":"…","id":…,"logGroup":…,"logStream":…,"message":…,<syslog fields>}\n
 * The syslog fields of the common RFC 3164 and RFC 5424 headers are written here; for any other
 * message that might be syslog the kernel pauses and the caller supplies the fields from the
 * core's parser (writeJsonEvents / resumeJsonEvents return NEED_FIELDS).
 */

enum { DECLINE = -1, NEED_FIELDS = -2, NEED_ROOM = -3 };

/* Filled by the caller: the facility and severity members (syslogFieldsJson's), 64-byte slots
 * of a length byte and the text; then the source members with the message's name
 * (`,"logGroup":…,"logStream":…,"message":`), per payload. */
enum { SLOT = 64, FACILITIES = 24, SEVERITIES = 8, SOURCE_AT = SLOT * (FACILITIES + SEVERITIES), SOURCE_ROOM = 16384 };
static u8 json_constants[SOURCE_AT + SOURCE_ROOM];
/* Syslog fields of the current event: the kernel's, or the caller's (at most FIELDS_ROOM). */
enum { FIELDS_ROOM = 4096 };
static u8 fields_buffer[FIELDS_ROOM];

/** Where the caller writes the constants (see json_constants). */
__attribute__((export_name("jsonConstants"))) u8 *jsonConstants(void) { return json_constants; }
/** Where the caller writes the fields it was asked for. */
__attribute__((export_name("fieldsBuffer"))) u8 *fieldsBuffer(void) { return fields_buffer; }
__attribute__((export_name("fieldsRoom"))) int fieldsRoom(void) { return FIELDS_ROOM; }
__attribute__((export_name("sourceRoom"))) int sourceRoom(void) { return SOURCE_ROOM; }

/* The paused writer's state. */
static const u8 *json_p, *json_end;
static u8 *json_out_start, *json_out, *json_out_end;
static int json_source_length, json_count;
static double json_low, json_high;
/* The current event, once read: its id token, time, message token (quotes included) and fields. */
static const u8 *event_id, *event_id_end, *event_message, *event_message_end;
static double event_time;
static int event_fields_length, event_pending, event_message_escaped;

/** The message token of the event the writer paused on (quotes included), and its time. */
__attribute__((export_name("pendingMessageStart"))) const u8 *pendingMessageStart(void) { return event_message; }
__attribute__((export_name("pendingMessageEnd"))) const u8 *pendingMessageEnd(void) { return event_message_end; }
__attribute__((export_name("pendingTime"))) double pendingTime(void) { return event_time; }

static int in_class_3164(u8 c) { return c == '!' || (c >= '#' && c <= '9') || (c >= ';' && c <= 'Z') || (c >= '^' && c <= '~'); }
static int in_class_5424(u8 c) { return c == '!' || (c >= '#' && c <= '[') || (c >= ']' && c <= '~'); }
static int is_digit(u8 c) { return c >= '0' && c <= '9'; }
static int two_digits(const u8 *p, u8 first_max, u8 second_max_if_first_max) {
  if (!is_digit(p[0]) || !is_digit(p[1]) || p[0] > first_max) return 0;
  return p[0] < first_max || p[1] <= second_max_if_first_max;
}

static u8 *put_bytes(u8 *o, const void *from, long length) {
  __builtin_memcpy(o, from, (size_t)length);
  return o + length;
}

static u8 *put_text(u8 *o, const char *text) {
  while (*text != 0) *o++ = (u8)*text++;
  return o;
}

static u8 *put_slot(u8 *o, int slot) {
  const u8 *entry = json_constants + SLOT * slot;
  return put_bytes(o, entry + 1, entry[0]);
}

/* A procid as syslogFieldsJson writes it: digits (at most 15) as a number, else a string. */
static u8 *put_procid(u8 *o, const u8 *p, const u8 *end) {
  long length = end - p;
  int numeric = length > 0 && length <= 15;
  for (const u8 *q = p; numeric && q < end; q++) numeric = is_digit(*q);
  if (!numeric) {
    o = put_text(o, ",\"procid\":\"");
    o = put_bytes(o, p, length);
    *o++ = '"';
    return o;
  }
  o = put_text(o, ",\"pid\":");
  while (p + 1 < end && *p == '0') p++;
  return put_bytes(o, p, end - p);
}

/* The priority of `<N>` at p (1 to 3 digits), or -1; *after is the position after `>`. */
static int read_priority(const u8 *p, const u8 *end, const u8 **after) {
  if (p >= end || *p != '<') return -1;
  p++;
  int value = 0, digits = 0;
  while (p < end && is_digit(*p) && digits < 4) value = value * 10 + (*p++ - '0'), digits++;
  if (digits == 0 || digits > 3 || p >= end || *p != '>') return -1;
  *after = p + 1;
  return value;
}

static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* RFC 3164 as syslog-line.ts's BSD_HEADER takes it; writes the fields, returns their end or 0. */
static u8 *fields_3164(const u8 *p, const u8 *end, u8 *o) {
  const u8 *q;
  int priority = read_priority(p, end, &q);
  if (priority < 0 || priority > 191 || end - q < 16) return 0;
  int month = 0;
  while (month < 12 && !(q[0] == MONTHS[3 * month] && q[1] == MONTHS[3 * month + 1] && q[2] == MONTHS[3 * month + 2])) month++;
  if (month == 12 || q[3] != ' ') return 0;
  q += 4;
  if (!((q[0] == ' ' && q[1] >= '1' && q[1] <= '9') || (q[0] == '1' && is_digit(q[1])) ||
        (q[0] == '2' && q[1] >= '0' && q[1] <= '8')))
    return 0;
  q += 2;
  if (end - q < 10 || q[0] != ' ' || !two_digits(q + 1, '2', '3') || q[3] != ':' || !two_digits(q + 4, '5', '9') ||
      q[6] != ':' || !two_digits(q + 7, '5', '9') || q[9] != ' ')
    return 0;
  q += 10;
  const u8 *host = q;
  while (q < end && in_class_3164(*q)) q++;
  if (q == host || q >= end || *q != ' ') return 0;
  const u8 *host_end = q++;
  const u8 *app = q;
  while (q < end && in_class_3164(*q)) q++;
  if (q == app || q - app > 64 || q >= end) return 0;
  const u8 *app_end = q, *pid = 0, *pid_end = 0;
  if (*q == '[') {
    pid = ++q;
    while (q < end && is_digit(*q)) q++;
    if (q == pid || q - pid > 15 || q >= end || *q != ']') return 0;
    pid_end = q++;
  }
  if (q >= end || *q != ':') return 0;
  if ((host_end - host) + (app_end - app) + (pid_end - pid) > FIELDS_ROOM - 256) return 0;
  o = put_slot(o, priority >> 3);
  *o++ = ',';
  o = put_slot(o, FACILITIES + (priority & 7));
  o = put_text(o, ",\"hostname\":\"");
  o = put_bytes(o, host, host_end - host);
  o = put_text(o, "\",\"app_name\":\"");
  o = put_bytes(o, app, app_end - app);
  *o++ = '"';
  if (pid != 0) o = put_procid(o, pid, pid_end);
  return o;
}

/* An RFC 5424 header word: a run of its class followed by a space; 0 if none. */
static const u8 *word_5424(const u8 *p, const u8 *end, const u8 **word_end) {
  const u8 *q = p;
  while (q < end && in_class_5424(*q)) q++;
  if (q == p || q >= end || *q != ' ') return 0;
  *word_end = q;
  return q + 1;
}

static int is_nil(const u8 *p, const u8 *end) { return end - p == 1 && *p == '-'; }

/* RFC 5424 as syslog-line.ts's RFC5424_HEADER takes it; `end` is the closing quote's position. */
static u8 *fields_5424(const u8 *p, const u8 *end, u8 *o) {
  const u8 *q;
  int priority = read_priority(p, end, &q);
  if (priority < 0 || priority > 191 || end - q < 2 || q[0] != '1' || q[1] != ' ') return 0;
  q += 2;
  if (q < end && *q == '-') {
    q++;
  } else {
    /* YYYY-MM-DDThh:mm:ss[.f{1,6}]Z, year 1000-2999, day at most 28 */
    if (end - q < 20 || (q[0] != '1' && q[0] != '2') || !is_digit(q[1]) || !is_digit(q[2]) || !is_digit(q[3]) ||
        q[4] != '-')
      return 0;
    if (!((q[5] == '0' && q[6] >= '1' && q[6] <= '9') || (q[5] == '1' && q[6] >= '0' && q[6] <= '2')) || q[7] != '-')
      return 0;
    if (!((q[8] == '0' && q[9] >= '1' && q[9] <= '9') || (q[8] == '1' && is_digit(q[9])) ||
          (q[8] == '2' && q[9] >= '0' && q[9] <= '8')) ||
        q[10] != 'T')
      return 0;
    if (!two_digits(q + 11, '2', '3') || q[13] != ':' || !two_digits(q + 14, '5', '9') || q[16] != ':' ||
        !two_digits(q + 17, '5', '9'))
      return 0;
    q += 19;
    if (q < end && *q == '.') {
      const u8 *fraction = ++q;
      while (q < end && is_digit(*q)) q++;
      if (q == fraction || q - fraction > 6) return 0;
    }
    if (q >= end || *q != 'Z') return 0;
    q++;
  }
  if (q >= end || *q != ' ') return 0;
  q++;
  const u8 *host = q, *host_end, *app, *app_end, *proc, *proc_end, *msgid, *msgid_end;
  if ((app = word_5424(host, end, &host_end)) == 0) return 0;
  if ((proc = word_5424(app, end, &app_end)) == 0) return 0;
  if ((msgid = word_5424(proc, end, &proc_end)) == 0) return 0;
  if ((q = word_5424(msgid, end, &msgid_end)) == 0) return 0;
  /* structured data: the nil value, followed by a space or the end of the message */
  if (q >= end || *q != '-' || !(q + 1 == end || q[1] == ' ')) return 0;
  if (msgid_end - host > FIELDS_ROOM - 256) return 0;
  o = put_slot(o, priority >> 3);
  *o++ = ',';
  o = put_slot(o, FACILITIES + (priority & 7));
  o = put_text(o, ",\"version\":1");
  if (!is_nil(host, host_end)) {
    o = put_text(o, ",\"hostname\":\"");
    o = put_bytes(o, host, host_end - host);
    *o++ = '"';
  }
  if (!is_nil(app, app_end)) {
    o = put_text(o, ",\"app_name\":\"");
    o = put_bytes(o, app, app_end - app);
    *o++ = '"';
  }
  if (!is_nil(proc, proc_end)) o = put_procid(o, proc, proc_end);
  if (!is_nil(msgid, msgid_end)) {
    o = put_text(o, ",\"msgid\":\"");
    o = put_bytes(o, msgid, msgid_end - msgid);
    *o++ = '"';
  }
  return o;
}

/* Reference times whose inferred RFC 3164 years all have four digits (syslog-line.ts). */
static const double EARLIEST_REFERENCE = 315532800000.0;   /* 1980-01-01 */
static const double LATEST_REFERENCE = 253087545600000.0;  /* 9990-01-01 */

/*
 * The syslog fields of the message whose value starts at p and whose closing quote is at end,
 * into fields_buffer (without the leading comma). Returns their length, 0 for none, or -1 when
 * only the core's parser can tell.
 */
static int syslog_fields(const u8 *p, const u8 *end, double reference) {
  u8 first = *p; /* the closing quote when the message is empty */
  if (first != '<') {
    u8 lower = first | 0x20;
    return ((lower >= 'a' && lower <= 'z') || is_digit(first) || first == '\\') ? -1 : 0;
  }
  if (!(reference >= EARLIEST_REFERENCE && reference < LATEST_REFERENCE)) return -1;
  u8 *o = fields_3164(p, end, fields_buffer);
  if (o == 0) o = fields_5424(p, end, fields_buffer);
  return o == 0 ? -1 : (int)(o - fields_buffer);
}

/* ISO-8601 UTC of epoch milliseconds, as Date#toISOString (years 0-9999 only; 0 otherwise). */
static u8 *put_iso(u8 *o, double time) {
  if (!(time >= -62167219200000.0 && time <= 253402300799999.0)) return 0;
  long long millis = (long long)time;
  long long days = millis >= 0 ? millis / 86400000 : -((-millis + 86399999) / 86400000);
  long long in_day = millis - days * 86400000;
  /* civil_from_days (H. Hinnant) */
  long long z = days + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  int fields[7] = {(int)y, (int)m, (int)d, (int)(in_day / 3600000), (int)(in_day / 60000 % 60),
                   (int)(in_day / 1000 % 60), (int)(in_day % 1000)};
  /* YYYY-MM-DDThh:mm:ss.sssZ: each field's digits, then the separator after it */
  static const int widths[7] = {4, 2, 2, 2, 2, 2, 3};
  static const char separators[] = "--T::.Z";
  for (int field = 0; field < 7; field++) {
    for (int digit = widths[field] - 1, value = fields[field]; digit >= 0; digit--, value /= 10)
      o[digit] = (u8)('0' + value % 10);
    o += widths[field];
    *o++ = (u8)separators[field];
  }
  return o;
}

static const char HEX_DIGITS[] = "0123456789abcdef";

static u8 *put_unit_escape(u8 *o, u32 unit) {
  o[0] = '\\';
  o[1] = 'u';
  o[2] = (u8)HEX_DIGITS[(unit >> 12) & 15];
  o[3] = (u8)HEX_DIGITS[(unit >> 8) & 15];
  o[4] = (u8)HEX_DIGITS[(unit >> 4) & 15];
  o[5] = (u8)HEX_DIGITS[unit & 15];
  return o + 6;
}

/*
 * Writes the JSON string token at p (opening quote) as JSON.stringify writes its value: the
 * short escapes it uses, \u00xx for other controls and lone surrogates, everything else as
 * UTF-8. Never longer than the token. The token was validated by find_string_end.
 */
static u8 *put_canonical_string(u8 *o, const u8 *p, const u8 *token_end) {
  const u8 *end = token_end - 1;
  *o++ = '"';
  p++;
  while (p < end) {
    const u8 *run = p;
    while (p < end && *p != '\\') p++;
    o = put_bytes(o, run, p - run);
    if (p >= end) break;
    u8 escape = p[1];
    if (escape != 'u') {
      if (escape == '/') {
        *o++ = '/';
      } else {
        o[0] = '\\';
        o[1] = escape;
        o += 2;
      }
      p += 2;
      continue;
    }
    u32 unit = (u32)hex_unit(p + 2);
    p += 6;
    if (unit >= 0xd800 && unit <= 0xdbff && p + 6 <= end && p[0] == '\\' && p[1] == 'u') {
      int low = hex_unit(p + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        o = put_utf8(o, 0x10000 + ((unit - 0xd800) << 10) + ((u32)low - 0xdc00));
        p += 6;
        continue;
      }
    }
    if (unit >= 0xd800 && unit <= 0xdfff) {
      o = put_unit_escape(o, unit);
    } else if (unit < 0x20) {
      u8 short_escape = unit == 8 ? 'b' : unit == 9 ? 't' : unit == 10 ? 'n' : unit == 12 ? 'f' : unit == 13 ? 'r' : 0;
      if (short_escape != 0) {
        o[0] = '\\';
        o[1] = short_escape;
        o += 2;
      } else {
        o = put_unit_escape(o, unit);
      }
    } else if (unit == '"' || unit == '\\') {
      o[0] = '\\';
      o[1] = (u8)unit;
      o += 2;
    } else {
      o = put_utf8(o, unit);
    }
  }
  *o++ = '"';
  return o;
}

/*
 * The end (after the closing quote) of the JSON string token whose body starts at p, or 0 when
 * it is not valid JSON; *escaped tells whether it holds an escape.
 */
static const u8 *find_string_end(const u8 *p, const u8 *end, int *escaped) {
  *escaped = 0;
  for (;;) {
    while (p + 16 <= end) {
      u32 mask = string_specials(wasm_v128_load(p));
      if (mask != 0) {
        p += __builtin_ctz(mask);
        break;
      }
      p += 16;
    }
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20) p++;
    if (p >= end || *p < 0x20) return 0;
    if (*p == '"') return p + 1;
    *escaped = 1;
    if (p + 1 >= end) return 0;
    u8 escape = p[1];
    if (escape == 'u') {
      if (p + 6 > end || hex_unit(p + 2) < 0) return 0;
      p += 6;
    } else if (escape == '"' || escape == '\\' || escape == '/' || escape == 'b' || escape == 'f' || escape == 'n' ||
               escape == 'r' || escape == 't') {
      p += 2;
    } else {
      return 0;
    }
  }
}

/* Reads the next event at json_p into event_*; returns 0 when it is not one the kernel takes. */
static int read_event(void) {
  const u8 *p = json_p, *end = json_end;
  if (!starts_with(p, end, "{\"id\":\"")) return 0;
  event_id = p + 6;
  p += 7;
  while (p < end && *p != '"' && *p != '\\' && *p >= 0x20) p++;
  if (!starts_with(p, end, "\",\"timestamp\":")) return 0;
  event_id_end = p + 1;
  p += 14;
  int negative = 0;
  if (p < end && *p == '-') negative = 1, p++;
  const u8 *digits = p;
  double time = 0;
  while (p < end && is_digit(*p)) time = time * 10 + (*p++ - '0');
  long width = p - digits;
  if (width == 0 || width > 15 || (width > 1 && *digits == '0')) return 0;
  event_time = negative ? -time : time;
  if (!starts_with(p, end, ",\"message\":\"")) return 0;
  event_message = p + 11;
  p = find_string_end(p + 12, end, &event_message_escaped);
  if (p == 0 || p >= end || *p != '}') return 0;
  event_message_end = p;
  json_p = p + 1;
  return 1;
}

/* Writes the current event's line if there is room; returns 0 when there is not. */
static int write_event_line(void) {
  long need = 24 + 64 + (event_id_end - event_id) + json_source_length + (event_message_end - event_message) +
              event_fields_length;
  if (json_out_end - json_out < need) return 0;
  u8 *o = put_text(json_out, "{\"timestamp\":\"");
  o = put_iso(o, event_time);
  o = put_text(o, "\",\"id\":");
  o = put_bytes(o, event_id, event_id_end - event_id);
  o = put_bytes(o, json_constants + SOURCE_AT, json_source_length);
  o = event_message_escaped ? put_canonical_string(o, event_message, event_message_end)
                            : put_bytes(o, event_message, event_message_end - event_message);
  if (event_fields_length > 0) {
    *o++ = ',';
    o = put_bytes(o, fields_buffer, event_fields_length);
  }
  *o++ = '}';
  *o++ = '\n';
  json_out = o;
  if (event_time < json_low) json_low = event_time;
  if (event_time > json_high) json_high = event_time;
  json_count++;
  event_pending = 0;
  return 1;
}

/* Runs the writer until the events end, it needs the caller, or a payload it does not take. */
static int run_json_events(void) {
  for (;;) {
    if (event_pending) {
      if (!write_event_line()) return NEED_ROOM;
      if (json_p >= json_end) return DECLINE;
      if (*json_p == ',') {
        json_p++;
      } else if (*json_p == ']') {
        if (!(json_p + 2 == json_end && json_p[1] == '}')) return DECLINE;
        events_earliest = json_low;
        events_latest = json_high;
        events_count = json_count;
        return (int)(json_out - json_out_start);
      } else {
        return DECLINE;
      }
    }
    if (!read_event()) return DECLINE;
    if (!(event_time >= -62167219200000.0 && event_time <= 253402300799999.0)) return DECLINE;
    event_pending = 1;
    event_fields_length = syslog_fields(event_message + 1, event_message_end - 1, event_time);
    if (event_fields_length < 0) return NEED_FIELDS;
  }
}

/*
 * Starts writing the JSON output of a payload's events (`events` right after `"logEvents":[`)
 * into `out`, which has room for `capacity` bytes; the constants must hold the payload's source
 * members (`source_length` bytes). Returns the output's length, DECLINE, NEED_FIELDS (the caller
 * writes the pending message's fields into fieldsBuffer and calls resumeJsonEvents) or NEED_ROOM
 * (the caller grows the output and calls resumeJsonEvents with -1).
 */
__attribute__((export_name("writeJsonEvents")))
int writeJsonEvents(const u8 *events, int length, u8 *out, int capacity, int source_length) {
  json_p = events;
  json_end = events + length;
  json_out_start = json_out = out;
  json_out_end = out + capacity;
  json_source_length = source_length;
  json_count = 0;
  json_low = __builtin_inf();
  json_high = -__builtin_inf();
  event_pending = 0;
  if (json_p < json_end && *json_p == ']') {
    if (!(json_p + 2 == json_end && json_p[1] == '}')) return DECLINE;
    events_earliest = json_low;
    events_latest = json_high;
    events_count = 0;
    return 0;
  }
  return run_json_events();
}

/*
 * Continues after NEED_FIELDS (`fields_length` bytes of fields in fieldsBuffer, 0 for none) or
 * NEED_ROOM (-1), with the output's room now `capacity` bytes from its start.
 */
__attribute__((export_name("resumeJsonEvents"))) int resumeJsonEvents(int fields_length, int capacity) {
  if (fields_length >= 0) event_fields_length = fields_length;
  json_out_end = json_out_start + capacity;
  return run_json_events();
}

static const char BASE64_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding, as Buffer#toString('base64'). Returns the text's length. */
__attribute__((export_name("base64Encode"))) int base64Encode(const u8 *in, int length, u8 *out) {
  u8 *o = out;
  int i = 0;
  /* 12 bytes to 16 digits a step (W. Mula's method): each 32-bit lane gets three bytes, the four
   * 6-bit indices are cut out by shifts and masks, and one table lookup per digit class adds the
   * offset from the index to its ASCII digit. Reads 16 bytes a step, so it stops 16 before the end. */
  const v128_t spread = wasm_i8x16_make(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const v128_t offsets = wasm_i8x16_make(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  for (; i + 16 <= length; i += 12, o += 16) {
    v128_t x = wasm_i8x16_swizzle(wasm_v128_load(in + i), spread);
    v128_t indices = wasm_v128_or(
        wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(x, 10), wasm_i32x4_splat(0x3f)),
                     wasm_v128_and(wasm_i32x4_shl(x, 4), wasm_i32x4_splat(0x3f00))),
        wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(x, 6), wasm_i32x4_splat(0x3f0000)),
                     wasm_v128_and(wasm_i32x4_shl(x, 8), wasm_i32x4_splat(0x3f000000))));
    /* class: 0 for 26-51, 1-12 for 52-63 (one per digit or sign), 13 for 0-25 */
    v128_t class = wasm_v128_or(wasm_u8x16_sub_sat(indices, wasm_i8x16_splat(51)),
                                wasm_v128_and(wasm_u8x16_lt(indices, wasm_i8x16_splat(26)), wasm_i8x16_splat(13)));
    wasm_v128_store(o, wasm_i8x16_add(indices, wasm_i8x16_swizzle(offsets, class)));
  }
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
static u32 gzip_stored_crc;

/** Input bytes the last successful gunzipMember read: less than given when other members follow. */
__attribute__((export_name("gzipInputUsed"))) int gzipInputUsed(void) { return gzip_input_used; }

/** The CRC-32 the last successful gunzipMember's trailer holds, for the caller to check. */
__attribute__((export_name("gzipStoredCrc"))) u32 gzipStoredCrc(void) { return gzip_stored_crc; }

/** The CRC-32 of `length` bytes (libdeflate's), for a runtime without a faster one. */
__attribute__((export_name("crc32"))) u32 crc32Of(const u8 *in, int length) {
  return libdeflate_crc32(0, in, (size_t)length);
}

static u32 le32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

/* RFC 1952 */
#define GZIP_FHCRC 0x02
#define GZIP_FEXTRA 0x04
#define GZIP_FNAME 0x08
#define GZIP_FCOMMENT 0x10
#define GZIP_FRESERVED 0xe0
#define GZIP_TRAILER 8

/* Past a zero-terminated field (a file name or comment), or `end` when it is not terminated. */
static const u8 *past_zero(const u8 *at, const u8 *end) {
  while (at < end && *at++ != 0) {
  }
  return at;
}

/*
 * Decompresses the first gzip member of `in` into `out`, which has room for `capacity` bytes,
 * and checks its size against the trailer's ISIZE, but not its CRC-32 (gzipStoredCrc): the
 * caller checks that, with an implementation faster than this module can have (zlib's uses the
 * processor's carry-less multiplication, which WebAssembly lacks). The header's optional fields
 * are read as libdeflate's gzip_decompress.c reads them, except that a header with a CRC-16 is
 * declined (zlib checks it; gzip writers seldom write one).
 * Returns the decompressed length; -1 when the data is not valid gzip, -2 when it needs more
 * room than `capacity` (the caller then leaves it to zlib, which says exactly what is wrong).
 */
__attribute__((export_name("gunzipMember"))) int gunzipMember(const u8 *in, int length, u8 *out, int capacity) {
  if (decompressor == 0) {
    libdeflate_set_memory_allocator(area_alloc, area_free);
    decompressor = libdeflate_alloc_decompressor();
    if (decompressor == 0) return -1;
  }
  const u8 *end = in + length;
  if (length < 10 + GZIP_TRAILER || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8) return -1;
  const u8 flags = in[3];
  if (flags & (GZIP_FRESERVED | GZIP_FHCRC)) return -1;
  const u8 *at = in + 10;
  if (flags & GZIP_FEXTRA) {
    const u32 extra = (u32)at[0] | (u32)at[1] << 8;
    at += 2;
    if (end - at < (long)extra + GZIP_TRAILER) return -1;
    at += extra;
  }
  if (flags & GZIP_FNAME) at = past_zero(at, end);
  if (flags & GZIP_FCOMMENT) at = past_zero(at, end);
  if (end - at < GZIP_TRAILER) return -1;
  size_t used = 0, written = 0;
  enum libdeflate_result result = libdeflate_deflate_decompress_ex(
      decompressor, at, (size_t)(end - GZIP_TRAILER - at), out, (size_t)capacity, &used, &written);
  if (result == LIBDEFLATE_INSUFFICIENT_SPACE) return -2;
  if (result != LIBDEFLATE_SUCCESS) return -1;
  at += used;
  if ((u32)written != le32(at + 4)) return -1;
  gzip_stored_crc = le32(at);
  gzip_input_used = (int)(at + GZIP_TRAILER - in);
  return (int)written;
}
