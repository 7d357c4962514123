/**
 * The web view's export download: `GET /export?request=<ExportFileRequest as JSON>` streams the
 * export as an attachment. The server has already checked Host, Origin and the token; here the
 * request is validated with the same schema as the desktop app's `export:save`, and redaction is
 * on unless the request says `redact: false`. Exporting only reads logs, so a read-only web view
 * may do it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateExportFileRequest, type ExportFileRequest } from '../../shared/ipc.js';
import type { Backend } from '../core/api/backend.js';
import type { ExportOptions } from '../core/export/exportRun.js';
import { toWireError } from '../core/api/dispatch.js';

/**
 * Downloads are never rendered (attachment + nosniff); if one were opened in place anyway, it gets
 * no script, no network and a unique origin.
 */
const DOWNLOAD_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'";

/** HTTP status for each user-facing error name; anything else is a server fault. */
const ERROR_STATUS: Record<string, number> = {
  InvalidArgsError: 400,
  RegexError: 400,
  TimeBoundError: 400,
  ConfigError: 400,
  ExportError: 400,
  InvalidIdError: 400,
  NotFoundError: 404,
};

/** Serves one export download. `headers` are the server's security headers. */
export async function serveExportDownload(
  backend: Backend,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  const fail = (status: number, message: string) => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`loupe serve: ${message}\n`);
  };
  if (req.method !== 'GET') return fail(405, `${req.method} is not supported for downloads; use GET`);

  const { exportContentType, exportFileName } = await import('../core/api/exportChannels.js');
  const { exportRun } = await import('../core/export/exportRun.js');
  let request: ExportFileRequest;
  let options: ExportOptions;
  try {
    request = validateExportFileRequest(parseRequestParam(url.searchParams.get('request')));
    options = await backend.exportOptions(request);
  } catch (err) {
    const wire = toWireError(err);
    return fail(ERROR_STATUS[wire.name] ?? 500, wire.message);
  }

  const name = exportFileName(request);
  res.writeHead(200, {
    ...headers,
    'Content-Security-Policy': DOWNLOAD_CSP,
    'Content-Type': exportContentType(request),
    // The name is [A-Za-z0-9._-] only (exportFileName), so the quoted form needs no escaping.
    'Content-Disposition': `attachment; filename="${name}"`,
    'X-Content-Type-Options': 'nosniff',
  });
  try {
    await exportRun(options, res);
  } catch {
    // Headers are gone: cutting the connection is how the browser learns the download failed.
    res.destroy();
  }
}

/** The `request` parameter as JSON; a missing or malformed one fails validation with its reason. */
function parseRequestParam(value: string | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return 'not JSON';
  }
}
