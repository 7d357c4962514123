/**
 * The OTLP end of `loupe ship --otlp http://collector:4318`: a `LogSink` (follow.ts) that sends
 * entries as OpenTelemetry log records over OTLP/HTTP with the JSON encoding (POST `/v1/logs`,
 * `application/json`, an `ExportLogsServiceRequest`), so any OTLP backend receives them.
 *
 * One record per entry:
 * - body: the entry's text as a person reads it: the screen lines it made final (SPEC §12) when
 *   the batch has them, else its content without ANSI escapes;
 * - `loupe.content`: the raw content, escapes and `\r` included;
 * - severity from the level (debug 5, info 9, warn 13, error 17, fatal 21);
 * - `loupe.agent_id`, `loupe.task_id`, `loupe.root`, `loupe.sequence`, `loupe.type` and
 *   `loupe.metadata` (as JSON, when there is any) as attributes;
 * - the resource: `service.name` = loupe, `host.name` = the machine name.
 *
 * OTLP acknowledges no positions, so each agent's position is a cursor file under its root
 * (cursor.ts), moved only after the collector answered 2xx to every request of a batch. A crash
 * between the answer and the cursor's rename re-sends that one batch: duplicates are possible for
 * the batch in flight, losses are not. 429, 5xx and unreachable collectors are retried by the
 * follower with backoff; any other answer is permanent (the request itself is wrong).
 *
 * Written by hand against the OTLP specification rather than with the OpenTelemetry SDK: the
 * SDK's exporters batch, retry and drop on their own schedule and tell nothing about which
 * records a collector took, while shipping must move a cursor exactly when a request succeeded;
 * the JSON encoding is a few plain objects.
 */
import { entryLevel, type Level } from '../../../shared/entry.js';
import { searchableText } from '../index/searchableText.js';
import { destinationDir, readCursor, writeCursor, type ShipDestination } from './cursor.js';
import { SinkError, type AgentKey, type LogBatch, type LogSink, type ShipPosition } from './follow.js';

/** The OTLP/HTTP path for logs, appended to a base endpoint such as `http://collector:4318`. */
const LOGS_PATH = '/v1/logs';
/**
 * JSON bytes per request. The OpenTelemetry Collector refuses bodies over 20 MiB by default; a
 * batch (up to 8 MiB of JSONL, which the encoding roughly doubles) is split to stay well below.
 */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** A collector that neither answers nor refuses within this long is retried like an unreachable one. */
const REQUEST_TIMEOUT_MS = 30_000;

/** OpenTelemetry SeverityNumber for each level (the first of each range). */
const SEVERITY: Record<Level, number> = { debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

type AnyValue = { stringValue: string } | { intValue: string };
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** One OTLP `LogRecord` in the JSON encoding. */
export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: KeyValue[];
}

/** Checks an `--otlp` endpoint; returns the URL that logs are POSTed to. Throws with a message for the user. */
export function otlpLogsUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`--otlp ${JSON.stringify(endpoint)} is not a URL: give the collector's OTLP/HTTP endpoint, e.g. http://collector:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--otlp ${JSON.stringify(endpoint)} is not http:// or https://: Loupe sends OTLP over HTTP (port 4318), not gRPC`);
  }
  if (!url.pathname.endsWith(LOGS_PATH)) url.pathname = url.pathname.replace(/\/+$/, '') + LOGS_PATH;
  return url;
}

/** The endpoint as it may be shown and stored: without a password. */
export function shownEndpoint(url: URL): string {
  const shown = new URL(url);
  shown.password = '';
  return shown.toString();
}

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** The records of one batch, in entry order. */
export function otlpRecords(batch: LogBatch, observedMicros: number): OtlpLogRecord[] {
  const linesOf = new Map<number, string[]>();
  for (const line of batch.lines) {
    const list = linesOf.get(line.sequence);
    if (list === undefined) linesOf.set(line.sequence, [line.text]);
    else list.push(line.text);
  }
  const observed = `${observedMicros}000`;
  return batch.entries.map(({ entry, time }) => {
    const level = entryLevel(entry);
    const attributes = [
      str('loupe.agent_id', batch.agent.agentId),
      str('loupe.task_id', batch.agent.taskId),
      str('loupe.root', batch.agent.root),
      { key: 'loupe.sequence', value: { intValue: String(entry.sequence) } },
      str('loupe.type', entry.type),
      str('loupe.content', entry.content),
    ];
    if (entry.metadata !== undefined && Object.keys(entry.metadata).length > 0) attributes.push(str('loupe.metadata', JSON.stringify(entry.metadata)));
    return {
      timeUnixNano: `${time}000`,
      observedTimeUnixNano: observed,
      severityNumber: SEVERITY[level],
      severityText: level.toUpperCase(),
      body: { stringValue: linesOf.get(entry.sequence)?.join('\n') ?? searchableText(entry.content) },
      attributes,
    };
  });
}

/** An `ExportLogsServiceRequest` holding `records` from `machine`. */
export function otlpRequest(machine: string, records: OtlpLogRecord[]): object {
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'loupe'), str('host.name', machine)] },
        scopeLogs: [{ scope: { name: 'loupe' }, logRecords: records }],
      },
    ],
  };
}

/**
 * Headers from `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`, as the
 * OpenTelemetry exporters read them: `key=value` pairs separated by commas, values URL-encoded.
 */
export function otlpHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const spec = env.OTEL_EXPORTER_OTLP_LOGS_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  const headers: Record<string, string> = {};
  for (const pair of spec.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    headers[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return headers;
}

export interface OtlpSinkOptions {
  endpoint: string;
  machine: string;
  /** Extra request headers (default: from the OTEL_EXPORTER_OTLP_*HEADERS variables). */
  headers?: Record<string, string>;
}

/** Ships into one OTLP/HTTP collector as one machine, with cursors under each root. */
export class OtlpSink implements LogSink {
  private readonly url: URL;
  private readonly destination: ShipDestination;
  private readonly headers: Record<string, string>;

  constructor(options: OtlpSinkOptions) {
    this.url = otlpLogsUrl(options.endpoint);
    this.destination = { kind: 'otlp', endpoint: shownEndpoint(this.url), machine: options.machine };
    this.headers = { 'Content-Type': 'application/json', ...(options.headers ?? otlpHeaders()) };
    if (this.url.username !== '' && this.headers.Authorization === undefined) {
      const user = decodeURIComponent(this.url.username);
      const password = decodeURIComponent(this.url.password);
      this.headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      this.url.username = '';
      this.url.password = '';
    }
  }

  async position(agent: AgentKey): Promise<ShipPosition> {
    try {
      return readCursor(destinationDir(agent.root, this.destination), agent);
    } catch (err) {
      throw new SinkError(`${(err as Error).message}; delete it to send that log again from its start`, true);
    }
  }

  async write(batch: LogBatch): Promise<void> {
    const records = otlpRecords(batch, Date.now() * 1000);
    // A batch of attention facts alone has no log record to send.
    if (records.length > 0) for (const part of splitBySize(records)) await this.post(part);
    writeCursor(destinationDir(batch.agent.root, this.destination), this.destination, batch.agent, batch.position);
  }

  /** Nothing to close: every request is a fetch of its own. */
  async dispose(): Promise<void> {}

  private async post(records: OtlpLogRecord[]): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(otlpRequest(this.destination.machine, records)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SinkError(`cannot reach the collector at ${this.destination.endpoint}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, false);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const detail = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    const message = `the collector at ${this.destination.endpoint} answered ${res.status}${detail === '' ? '' : `: ${detail}`}`;
    // OTLP/HTTP: 429, 502, 503 and 504 are retryable; so is any other 5xx here (a collector restarting).
    throw new SinkError(message, !(res.status === 429 || res.status >= 500));
  }
}

/** Records in runs of at most MAX_REQUEST_BYTES of JSON (a single larger record goes alone). */
function splitBySize(records: OtlpLogRecord[]): OtlpLogRecord[][] {
  const parts: OtlpLogRecord[][] = [];
  let current: OtlpLogRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordSize(record);
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/**
 * A cheap estimate of a record's JSON size: its strings plus a frame. Escaping can make the real
 * size larger (control characters take 6 bytes), which 4 MiB against a 20 MiB limit leaves room for.
 */
function recordSize(record: OtlpLogRecord): number {
  let chars = 512;
  for (const a of record.attributes) chars += a.key.length + ('stringValue' in a.value ? a.value.stringValue.length : 20);
  return chars + record.body.stringValue.length;
}
