/**
 * `s3://bucket/prefix` locations of lake tables: the bucket and the key prefix every object of
 * the storage lives under.
 */
import { CdcError } from '../../errors.js';

/** A parsed `s3://` location. */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing `/`; empty for the bucket's root. */
  readonly prefix: string;
}

/** True when `location` is an `s3://` URL (any case of the scheme). */
export function isS3Location(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

/**
 * Splits `s3://bucket/some/prefix/` into `{ bucket: 'bucket', prefix: 'some/prefix' }`.
 * Bucket names are checked against S3's rules for new buckets (3–63 characters of lower-case
 * letters, digits, `.` and `-`, starting and ending with a letter or digit), which also keeps
 * them usable in path-style URLs.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * @throws {CdcError} CONFIG_INVALID for a URL without a valid bucket name.
 */
export function parseS3Location(location: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(location);
  const bucket = match?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new CdcError('CONFIG_INVALID', `target location ${location}: "${bucket}" is not an S3 bucket name`, {
      remedy: 'write s3://<bucket>/<prefix>, with the bucket name in lower case (3 to 63 letters, digits, dots and hyphens)',
    });
  }
  const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket, prefix };
}
