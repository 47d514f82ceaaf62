/**
 * A throwaway S3-compatible server for tests: moto's server mode (`moto[server]` from PyPI,
 * pinned in `oracles/requirements.txt`, installed by `.ci/run` into the oracles' Python
 * environment) on a free port on 127.0.0.1, its temporary files in a temporary directory, killed
 * and removed by {@link ThrowawayS3.stop}. It never uses a server the machine already runs.
 *
 * Requests are authenticated: at start it creates an IAM user with an access key allowed `s3:*`
 * (moto accepts any request until then), then switches authentication on (moto's
 * `/moto-api/reset-auth`), so wrong keys get S3's own 403 answers (`InvalidAccessKeyId`,
 * `SignatureDoesNotMatch`). moto honours `If-None-Match: *` on PutObject (412 when the key
 * exists); its check is not atomic against a concurrent PutObject of the same key, so tests race
 * writers one after the other, not at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { oraclesPython } from './python-oracles.js';
import { freePort, waitForPort } from './throwaway-cluster.js';

/** A running throwaway S3 server. */
export interface ThrowawayS3 {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The region the server's clients sign for. */
  readonly region: string;
  /** Credentials the server accepts (an IAM user's key allowed `s3:*`). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The server's temporary directory (`TMPDIR`: objects it spools to disk). */
  readonly dir: string;
  /** Creates a bucket. */
  createBucket(name: string): Promise<void>;
  /**
   * delta-rs storage options for this server (`AWS_ENDPOINT_URL`, keys, region, `AWS_ALLOW_HTTP`):
   * enough to read tables; delta-rs writes would need a locking provider or
   * `AWS_S3_ALLOW_UNSAFE_RENAME`.
   */
  deltaStorageOptions(): Record<string, string>;
  /** Kills the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** One IAM query-API call while authentication is still off (moto routes by the signed service). */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${params.Action} failed: HTTP ${response.status}: ${text}`);
  return text;
}

/**
 * Starts moto's server on a free port with a fresh temporary directory, an IAM user and key,
 * and authentication on.
 * @throws {Error} with the server's output when it does not start within 30 s, or saying how to
 *   install moto when the oracles' Python environment lacks it.
 */
export async function startThrowawayS3(options: { label?: string } = {}): Promise<ThrowawayS3> {
  const python = oraclesPython();
  const dir = mkdtempSync(join(tmpdir(), `cdc-s3-${options.label ?? 'server'}-`));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir },
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    live.add(child);
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    const kill = async () => {
      if (!live.delete(child)) return;
      child.kill('SIGKILL');
      await exit;
    };
    if (await waitForPort(port, 30_000, { intervalMs: 100, exited: () => exited })) {
      const endpoint = `http://127.0.0.1:${port}`;
      try {
        await iam(endpoint, { Action: 'CreateUser', UserName: 'cdc-merge' });
        const key = await iam(endpoint, { Action: 'CreateAccessKey', UserName: 'cdc-merge' });
        const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
        await iam(endpoint, { Action: 'PutUserPolicy', UserName: 'cdc-merge', PolicyName: 's3-all', PolicyDocument: policy });
        const accessKeyId = /<AccessKeyId>([^<]+)</.exec(key)?.[1];
        const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(key)?.[1];
        if (!accessKeyId || !secretAccessKey) throw new Error(`moto returned no access key: ${key}`);
        const auth = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '0' });
        if (!auth.ok) throw new Error(`moto did not switch authentication on: HTTP ${auth.status}: ${await auth.text()}`);
        const region = 'us-east-1';
        // As S3Storage does: no notice that future SDK releases need Node 22 (the version is pinned).
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
        const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
        return {
          port,
          endpoint,
          region,
          accessKeyId,
          secretAccessKey,
          dir,
          async createBucket(name: string) {
            await client.send(new CreateBucketCommand({ Bucket: name }));
          },
          deltaStorageOptions: () => ({
            AWS_ENDPOINT_URL: endpoint,
            AWS_REGION: region,
            AWS_ACCESS_KEY_ID: accessKeyId,
            AWS_SECRET_ACCESS_KEY: secretAccessKey,
            AWS_ALLOW_HTTP: 'true',
          }),
          async stop() {
            client.destroy();
            await kill();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        await kill();
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`moto server on port ${port} could not be set up: ${(error as Error).message}\n${output}`, { cause: error });
      }
    }
    await kill();
    if (attempt >= 2 || /No module named/.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      const hint = /No module named/.test(output) ? ' (install it: pip install -r oracles/requirements.txt into the oracles environment; bash .ci/run does)' : '';
      throw new Error(`moto server did not start on port ${port}${hint}:\n${output}`);
    }
  }
}
