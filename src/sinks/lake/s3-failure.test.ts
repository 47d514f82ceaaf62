import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../errors.js';
import { s3Failure } from './s3-failure.js';

const place = { operation: 'create', url: 's3://bucket/lake/t/_delta_log/00000000000000000001.json', bucket: 'bucket', endpoint: 'http://s3.local:9000' };

/** An exception shaped as the AWS SDK throws it: S3's code as `name`, the HTTP status in `$metadata`. */
function serviceError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 1 } });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:9000`), { code, $metadata: { attempts: 3 } });
}

describe('s3Failure', () => {
  it('makes refused and unknown hosts retryable CONNECTION_FAILED, dropped connections retryable CONNECTION_LOST', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH']) {
      const error = s3Failure(networkError(code), place);
      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
      expect(error.message).toContain('http://s3.local:9000');
      expect(error.message).toContain(place.url);
    }
    for (const code of ['ECONNRESET', 'EPIPE', 'TimeoutError']) {
      const error = s3Failure(Object.assign(new Error('socket hang up'), { name: code === 'TimeoutError' ? code : 'Error', code: code === 'TimeoutError' ? undefined : code }), place);
      expect(error).toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
      expect(isRetryable(error)).toBe(true);
    }
  });

  it('makes 5xx, SlowDown and RequestTimeout a retryable TARGET_UNAVAILABLE', () => {
    for (const e of [serviceError('InternalError', 500), serviceError('ServiceUnavailable', 503), serviceError('SlowDown', 503), serviceError('RequestTimeout', 400)]) {
      expect(s3Failure(e, place)).toMatchObject({ code: 'TARGET_UNAVAILABLE', retryable: true });
    }
  });

  it('makes credentials, access and bucket problems TARGET_UNWRITABLE with a remedy for each', () => {
    const cases: [Error, RegExp][] = [
      [serviceError('InvalidAccessKeyId', 403), /access_key_id/],
      [serviceError('SignatureDoesNotMatch', 403), /secret_access_key/],
      [serviceError('AccessDenied', 403), /s3:PutObject .*bucket|bucket bucket/],
      [serviceError('NoSuchBucket', 404), /create the bucket bucket/],
      [serviceError('PermanentRedirect', 301), /storage.region/],
      [serviceError('InvalidRequest', 400), /storage settings/],
    ];
    for (const [cause, remedy] of cases) {
      const error = s3Failure(cause, place);
      expect(error).toMatchObject({ code: 'TARGET_UNWRITABLE', retryable: false, cause });
      expect(error.remedy).toMatch(remedy);
      expect(error.message).toContain(`${cause.name} (HTTP ${(cause as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode})`);
      expect(error.context).toMatchObject({ bucket: 'bucket', endpoint: 'http://s3.local:9000' });
    }
  });

  it('redacts a password in the endpoint URL', () => {
    const error = s3Failure(serviceError('AccessDenied', 403), { ...place, endpoint: 'https://user:hunter2@s3.local' });
    expect(JSON.stringify({ m: error.message, c: error.context })).not.toContain('hunter2');
  });
});
