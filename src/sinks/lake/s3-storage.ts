/**
 * Lake storage in an S3 bucket (Amazon S3 or an S3-compatible server) through the AWS SDK for
 * JavaScript v3 (`@aws-sdk/client-s3`).
 *
 * - `putIfAbsent` is a conditional PutObject with `If-None-Match: *`: S3 creates the object only
 *   when no object of that key exists and answers 412 Precondition Failed otherwise, so of two
 *   writers racing for the same Delta log entry exactly one wins. A concurrent conditional write
 *   of the same key may instead get 409 ConditionalRequestConflict, which AWS says to retry.
 *   See https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html and
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (`If-None-Match`).
 * - `replace` and `write` are plain PutObjects: S3 replaces an object atomically, readers see the
 *   old bytes or the new, never a mix (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
 * - `list` pages through ListObjectsV2 (at most 1,000 keys a page).
 *
 * Every failure is a {@link CdcError} from `s3Failure`: unreachable endpoints and dropped
 * connections retryable (`CONNECTION_FAILED`, `CONNECTION_LOST`), 5xx `TARGET_UNAVAILABLE`
 * (retryable), wrong credentials, access denied or a missing bucket `TARGET_UNWRITABLE` naming
 * the bucket and the endpoint, never a credential.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { CdcError } from '../../errors.js';
import { httpStatus, s3ErrorCode, s3Failure } from './s3-failure.js';
import { parseS3Location } from './s3-location.js';
import type { LakeStorage, StoredObject } from './storage.js';

/** How to reach the bucket. Absent fields fall back to the AWS SDK's defaults (environment, profile). */
export interface S3StorageSettings {
  /**
   * An S3-compatible server's URL (`http://127.0.0.1:9000`, `https://s3.example.com`); absent
   * for Amazon S3. With an endpoint, requests use path-style addressing
   * (`<endpoint>/<bucket>/<key>`), which S3-compatible servers accept without DNS per bucket.
   */
  readonly endpoint?: string;
  /** The bucket's region (`eu-central-1`); default `AWS_REGION`, else `us-east-1` with an endpoint. */
  readonly region?: string;
  /** Static credentials; both or neither (then the SDK's default chain: environment, profile, instance role). */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Time allowed to open a connection, ms (default 10,000). */
  readonly connectionTimeoutMs?: number;
  /** Time a request may wait for data, ms (default 120,000: a large data file's upload). */
  readonly requestTimeoutMs?: number;
  /** Attempts per request, the first included, with the SDK's backoff between them (default 3). */
  readonly maxAttempts?: number;
}

/** Retries of a conditional write answered 409 ConditionalRequestConflict. */
const CONFLICT_RETRIES = 5;
/** First wait after a 409, ms; doubles per retry (100, 200, … 1,600 ms: about 3 s in all). */
const CONFLICT_BACKOFF_MS = 100;

/**
 * Lake storage under `s3://bucket/prefix`: object `path` is key `prefix/path`.
 * @throws {CdcError} CONFIG_INVALID from the constructor for a location without a valid bucket,
 *   or only one of the two keys; from its methods, the errors of `s3Failure`.
 */
export class S3Storage implements LakeStorage {
  /** `s3://bucket/prefix`. */
  readonly description: string;
  readonly bucket: string;
  /** Key prefix without trailing `/`, or empty. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly endpoint: string;

  /** @param location `s3://bucket/prefix` */
  constructor(location: string, settings: S3StorageSettings = {}) {
    const { bucket, prefix } = parseS3Location(location);
    this.bucket = bucket;
    this.prefix = prefix;
    this.description = `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`;
    this.endpoint = settings.endpoint ?? 'AWS';
    if ((settings.accessKeyId === undefined) !== (settings.secretAccessKey === undefined)) {
      throw new CdcError('CONFIG_INVALID', `target ${this.description}: storage needs both access_key_id and secret_access_key, or neither`, {
        remedy: 'give both keys, or leave both out to use the AWS credentials of the environment',
      });
    }
    // The SDK warns once per process on Node 20 that its releases from 2027 need Node 22; this
    // project pins a release that supports Node 20 (package.json), so the warning is noise.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const config: S3ClientConfig = {
      maxAttempts: settings.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: settings.connectionTimeoutMs ?? 10_000, requestTimeout: settings.requestTimeoutMs ?? 120_000 },
    };
    const region = settings.region ?? (settings.endpoint !== undefined && !process.env.AWS_REGION ? 'us-east-1' : undefined);
    if (region !== undefined) config.region = region;
    if (settings.endpoint !== undefined) {
      config.endpoint = settings.endpoint;
      config.forcePathStyle = true;
      // The SDK's default CRC checksums on every upload (since 3.729) are refused by some
      // S3-compatible servers; send them only where the operation requires one.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined) {
      config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  private key(path: string): string {
    return this.prefix === '' ? path : `${this.prefix}/${path}`;
  }

  private failed(operation: string, path: string, error: unknown): CdcError {
    return s3Failure(error, { operation, url: `s3://${this.bucket}/${this.key(path)}`, bucket: this.bucket, endpoint: this.endpoint });
  }

  async read(path: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (s3ErrorCode(error) === 'NoSuchKey') return null;
      throw this.failed('read', path, error);
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    await this.replace(path, bytes);
  }

  /**
   * Creates the object with `If-None-Match: *`.
   * @returns false on 412 Precondition Failed when the object there is not ours: when the SDK
   *   retried a request whose first attempt did succeed (its answer lost), the 412 is about our
   *   own object, and this returns true.
   * @throws {CdcError} TARGET_UNWRITABLE when the server does not support conditional writes
   *   (501 NotImplemented); TARGET_UNAVAILABLE (retryable) when 409 conflicts persist.
   */
  async putIfAbsent(path: string, bytes: Uint8Array): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: bytes, IfNoneMatch: '*' }));
        return true;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 412) return this.holds(path, bytes);
        if (status === 409 && attempt < CONFLICT_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, CONFLICT_BACKOFF_MS * 2 ** attempt));
          continue;
        }
        if (status === 501) {
          throw new CdcError('TARGET_UNWRITABLE', `the S3 endpoint ${this.endpoint} does not support conditional writes (If-None-Match: *), which ${this.description} needs`, {
            cause: error,
            remedy: 'use a server that supports conditional PutObject (Amazon S3, MinIO, Cloudflare R2, …); without it two writers could overwrite each other’s commits',
          });
        }
        if (status === 409) {
          throw new CdcError('TARGET_UNAVAILABLE', `S3 kept answering 409 ConditionalRequestConflict to creating s3://${this.bucket}/${this.key(path)}`, {
            cause: error,
            retryable: true,
            remedy: 'nothing, if it passes: another writer is creating the same object; cdc-merge retries with backoff',
          });
        }
        throw this.failed('create', path, error);
      }
    }
  }

  /** True when the object at `path` holds exactly `bytes`. */
  private async holds(path: string, bytes: Uint8Array): Promise<boolean> {
    const there = await this.read(path);
    return there !== null && Buffer.from(there).equals(bytes);
  }

  async replace(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: bytes }));
    } catch (error) {
      throw this.failed('write', path, error);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root + prefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (error) {
        throw this.failed('list', prefix, error);
      }
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined || !item.Key.startsWith(root) || item.Key.endsWith('/')) continue;
        out.push({ path: item.Key.slice(root.length), size: item.Size ?? 0, modifiedMs: item.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(path: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
    } catch (error) {
      if (s3ErrorCode(error) === 'NoSuchKey') return;
      throw this.failed('delete', path, error);
    }
  }

  /** Closes the client's connections (sockets kept alive for reuse). */
  close(): void {
    this.client.destroy();
  }
}
