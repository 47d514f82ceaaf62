/**
 * S3Storage against a real S3-compatible server: moto's server mode, started by the test
 * (`src/testing/throwaway-s3.ts`) with authentication on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdcError, isRetryable } from '../../errors.js';
import { freePort } from '../../testing/throwaway-cluster.js';
import { startThrowawayS3, type ThrowawayS3 } from '../../testing/throwaway-s3.js';
import { S3Storage, type S3StorageSettings } from './s3-storage.js';

let s3: ThrowawayS3;
const BUCKET = 'lake-test';
beforeAll(async () => {
  s3 = await startThrowawayS3({ label: 'storage' });
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await s3?.stop();
});

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | null) => (data === null ? null : new TextDecoder().decode(data));
const settings = (more: Partial<S3StorageSettings> = {}): S3StorageSettings => ({
  endpoint: s3.endpoint,
  region: s3.region,
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
  ...more,
});

async function failure(promise: Promise<unknown>): Promise<CdcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CdcError);
  return error as CdcError;
}

describe('S3Storage on an S3-compatible server', () => {
  it('creates an object only once: a second writer gets false and the first bytes stay', async () => {
    const a = new S3Storage(`s3://${BUCKET}/put-if-absent`, settings());
    const b = new S3Storage(`s3://${BUCKET}/put-if-absent/`, settings());
    expect(await a.putIfAbsent('t/_delta_log/00000000000000000001.json', bytes('writer a'))).toBe(true);
    expect(await b.putIfAbsent('t/_delta_log/00000000000000000001.json', bytes('writer b'))).toBe(false);
    expect(text(await b.read('t/_delta_log/00000000000000000001.json'))).toBe('writer a');
    // The same bytes again (a retried request whose first answer was lost) count as written.
    expect(await a.putIfAbsent('t/_delta_log/00000000000000000001.json', bytes('writer a'))).toBe(true);
    expect(await b.putIfAbsent('t/_delta_log/00000000000000000002.json', bytes('writer b'))).toBe(true);
  });

  it('reads null for a missing object, replaces objects whole, and deletes (missing ones too)', async () => {
    const storage = new S3Storage(`s3://${BUCKET}/replace`, settings());
    expect(await storage.read('state.json')).toBeNull();
    await storage.replace('state.json', bytes('{"v":1}'));
    expect(text(await storage.read('state.json'))).toBe('{"v":1}');
    await storage.replace('state.json', bytes('{"v":2}'));
    expect(text(await storage.read('state.json'))).toBe('{"v":2}');
    await storage.write('data/part-0.parquet', new Uint8Array(0));
    expect(await storage.read('data/part-0.parquet')).toEqual(new Uint8Array(0));
    await storage.delete('state.json');
    expect(await storage.read('state.json')).toBeNull();
    await storage.delete('state.json');
    await storage.delete('never/was.json');
  });

  it('lists more than 1,000 objects (pagination) under a prefix, relative to the root, with sizes and times', async () => {
    const storage = new S3Storage(`s3://${BUCKET}/listing/root`, settings());
    const names = Array.from({ length: 1_050 }, (_, i) => `t/_delta_log/${String(i).padStart(20, '0')}.json`);
    const started = Date.now() - 60_000;
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name, j) => storage.write(name, bytes('x'.repeat((i + j) % 7)))));
    }
    await storage.write('t/part-1.parquet', bytes('data'));
    await storage.write('other/x.json', bytes('other'));
    await new S3Storage(`s3://${BUCKET}/listing/rootless`, settings()).write('t/_delta_log/not-mine.json', bytes('!'));

    const listed = await storage.list('t/_delta_log/');
    expect(listed.map((o) => o.path).sort()).toEqual(names);
    expect(listed.find((o) => o.path === names[13])?.size).toBe(13 % 7);
    expect(listed.every((o) => o.modifiedMs > started && o.modifiedMs < Date.now() + 60_000)).toBe(true);
    expect((await storage.list('t/')).length).toBe(1_051);
    expect((await storage.list('t/_delta_log/0000000000000000100')).map((o) => o.path).sort()).toEqual(names.slice(1000, 1010));
    expect((await storage.list('')).length).toBe(1_052);
    expect(await storage.list('nothing/')).toEqual([]);

    const bucketRoot = new S3Storage(`s3://${BUCKET}`, settings());
    expect((await bucketRoot.list('listing/root/other/')).map((o) => o.path)).toEqual(['listing/root/other/x.json']);
  });

  it('reports an unreachable endpoint as a retryable CONNECTION_FAILED naming the endpoint', async () => {
    const port = await freePort();
    const storage = new S3Storage(`s3://${BUCKET}/x`, settings({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }));
    for (const attempt of [() => storage.read('a'), () => storage.putIfAbsent('a', bytes('a')), () => storage.list('')]) {
      const error = await failure(attempt());
      expect(error.code).toBe('CONNECTION_FAILED');
      expect(isRetryable(error)).toBe(true);
      expect(error.message).toContain(`http://127.0.0.1:${port}`);
      expect(error.message).toContain(`s3://${BUCKET}/x/`);
    }
  });

  it('reports wrong credentials and a missing bucket as TARGET_UNWRITABLE naming bucket and endpoint, never the secret', async () => {
    const wrongSecret = 'wrong-secret-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123';
    const cases = [
      { storage: new S3Storage(`s3://${BUCKET}/x`, settings({ secretAccessKey: wrongSecret })), s3Code: 'SignatureDoesNotMatch', remedy: /secret_access_key/ },
      { storage: new S3Storage(`s3://${BUCKET}/x`, settings({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: wrongSecret })), s3Code: 'InvalidAccessKeyId', remedy: /access_key_id/ },
      { storage: new S3Storage('s3://no-such-bucket/x', settings()), s3Code: 'NoSuchBucket', remedy: /create the bucket no-such-bucket/ },
    ];
    for (const { storage, s3Code, remedy } of cases) {
      for (const attempt of [() => storage.putIfAbsent('a.json', bytes('a')), () => storage.replace('a.json', bytes('a')), () => storage.list('')]) {
        const error = await failure(attempt());
        expect(error.code).toBe('TARGET_UNWRITABLE');
        expect(isRetryable(error)).toBe(false);
        expect(error.context.s3Code).toBe(s3Code);
        expect(error.message).toContain(storage.bucket);
        expect(error.message).toContain(s3.endpoint);
        expect(error.remedy).toMatch(remedy);
        const everything = JSON.stringify({ message: error.message, remedy: error.remedy, context: error.context, cause: String(error.cause), stack: error.stack });
        expect(everything).not.toContain(wrongSecret);
        expect(everything).not.toContain(s3.secretAccessKey);
      }
    }
  });
});
