/**
 * The HTTP endpoints of a running pipeline: Prometheus `/metrics`, and `/health`,
 * `/health/live` (the process answers), `/health/ready` (streaming has started and the last
 * error, if any, is over). Bound to 127.0.0.1 unless a host is given (`--metrics-host`, `metrics_host`). The health body's error
 * is redacted (`redactText`): no password, token or row value.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { CdcError } from '../errors.js';
import { redactText } from '../redact.js';

/** The state the health endpoints report. */
export interface HealthState {
  /** True once the pipeline streams changes. */
  ready: boolean;
  /** Last error message, cleared on recovery. */
  lastError?: string;
}

/**
 * Starts the server on `port` (0 = any free port) and resolves with it once listening.
 * Responses: 200 when healthy, 503 when not ready; bodies are JSON except /metrics.
 * @throws {CdcError} CONFIG_INVALID when it cannot listen there (not an address of this machine, port taken).
 */
export async function startHttpServer(options: { port: number; host?: string; registry: Registry; health: HealthState }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      options.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end(redactText(String(error)));
        });
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url === '/health/live') return json(200, { status: 'live' });
    if (url === '/health/ready' || url === '/health') {
      const ok = options.health.ready && !options.health.lastError;
      const error = options.health.lastError ? { error: redactText(options.health.lastError) } : {};
      return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', ...error });
    }
    json(404, { error: 'not found', endpoints: ['/metrics', '/health', '/health/ready', '/health/live'] });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CdcError('CONFIG_INVALID', `cannot serve metrics on ${host} port ${options.port}: ${error.message}`, {
          cause: error,
          remedy: 'give --metrics-host an address of this machine (127.0.0.1, 0.0.0.0, ::) and --metrics-port a free port',
        }),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  return server;
}
