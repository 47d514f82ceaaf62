/**
 * S3Storage's answers to what moto never says (409 ConditionalRequestConflict, 501, 503), from a
 * scripted HTTP server in this process.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CdcError, isRetryable } from '../../errors.js';
import { S3Storage } from './s3-storage.js';

/** One scripted answer: status, S3 error code (an XML error body), or an object body for a GET. */
type Answer = { status: number; code?: string; body?: string };

let server: Server;
let endpoint: string;
let script: Answer[] = [];
let seen: { method: string; url: string; ifNoneMatch: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] });
      const answer = script.shift() ?? { status: 500, code: 'InternalError' };
      if (answer.code) {
        res.writeHead(answer.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>scripted ${answer.code}</Message></Error>`);
      } else {
        res.writeHead(answer.status, { 'content-type': 'application/octet-stream', ...(answer.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(answer.body)) }) });
        res.end(answer.body ?? '');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  script = [];
  seen = [];
});

const storage = () => new S3Storage('s3://bucket/lake', { endpoint, accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'not-a-real-secret', maxAttempts: 1 });
const bytes = new TextEncoder().encode('commit');

describe('S3Storage.putIfAbsent', () => {
  it('sends If-None-Match: * to <endpoint>/<bucket>/<prefix>/<path> (path style)', async () => {
    script = [{ status: 200 }];
    expect(await storage().putIfAbsent('t/_delta_log/00000000000000000000.json', bytes)).toBe(true);
    expect(seen).toMatchObject([{ method: 'PUT', ifNoneMatch: '*' }]);
    expect(seen[0]!.url).toMatch(/^\/bucket\/lake\/t\/_delta_log\/00000000000000000000\.json/);
  });

  it('retries 409 ConditionalRequestConflict, then reports the 412 of the writer that won', async () => {
    script = [{ status: 409, code: 'ConditionalRequestConflict' }, { status: 409, code: 'ConditionalRequestConflict' }, { status: 412, code: 'PreconditionFailed' }, { status: 200, body: 'other writer' }];
    expect(await storage().putIfAbsent('v.json', bytes)).toBe(false);
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT', 'GET']);
  });

  it('counts a 412 over its own bytes as written (a retried request whose first answer was lost)', async () => {
    script = [{ status: 412, code: 'PreconditionFailed' }, { status: 200, body: 'commit' }];
    expect(await storage().putIfAbsent('v.json', bytes)).toBe(true);
  });

  it('gives up on endless 409s with a retryable TARGET_UNAVAILABLE', async () => {
    script = Array.from({ length: 6 }, () => ({ status: 409, code: 'ConditionalRequestConflict' }));
    const error = (await storage().putIfAbsent('v.json', bytes).catch((e: unknown) => e)) as CdcError;
    expect(error).toBeInstanceOf(CdcError);
    expect(error).toMatchObject({ code: 'TARGET_UNAVAILABLE', retryable: true });
    expect(seen).toHaveLength(6);
  }, 10_000);

  it('refuses a server without conditional writes (501 NotImplemented) with TARGET_UNWRITABLE', async () => {
    script = [{ status: 501, code: 'NotImplemented' }];
    const error = (await storage().putIfAbsent('v.json', bytes).catch((e: unknown) => e)) as CdcError;
    expect(error).toMatchObject({ code: 'TARGET_UNWRITABLE', retryable: false });
    expect(error.message).toContain('does not support conditional writes');
    expect(error.message).toContain(endpoint);
  });

  it('makes a 503 SlowDown a retryable TARGET_UNAVAILABLE', async () => {
    script = [{ status: 503, code: 'SlowDown' }];
    const error = (await storage().putIfAbsent('v.json', bytes).catch((e: unknown) => e)) as CdcError;
    expect(error).toMatchObject({ code: 'TARGET_UNAVAILABLE' });
    expect(isRetryable(error)).toBe(true);
    expect(JSON.stringify({ m: error.message, c: error.context })).not.toContain('not-a-real-secret');
  });
});
