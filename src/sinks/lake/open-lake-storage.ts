/**
 * Where a lake sink's `location` points and how to reach it, shared by the Delta and Iceberg
 * sinks: the `storage:` block of their cdc.yaml `target:` section and the factory that opens a
 * {@link LakeStorage} for a location (a local directory or `s3://bucket/prefix`).
 *
 * ```yaml
 * target:
 *   type: delta
 *   location: s3://lake-bucket/cdc
 *   storage:
 *     endpoint: http://minio.internal:9000   # absent for Amazon S3
 *     region: eu-central-1
 *     access_key_id: ${S3_ACCESS_KEY_ID}
 *     secret_access_key: ${S3_SECRET_ACCESS_KEY}
 * ```
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { CdcError } from '../../errors.js';
import { redactText } from '../../redact.js';
import { isS3Location, parseS3Location } from './s3-location.js';
import { S3Storage } from './s3-storage.js';
import { LocalStorage, type LakeStorage } from './storage.js';

/**
 * `storage: { endpoint, region, access_key_id, secret_access_key }` of a lake target; every field
 * optional (absent ones come from the AWS SDK's defaults: `AWS_REGION`, `AWS_ACCESS_KEY_ID`, …,
 * a profile or an instance role). Write secrets as `${VAR}`: cdc.yaml takes them from the
 * environment.
 */
export const lakeStorageSchema = z
  .object({
    /** An S3-compatible server's `http(s)://host:port`; requests use path-style addressing. */
    endpoint: z.string().regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL').optional(),
    region: z.string().min(1).optional(),
    access_key_id: z.string().min(1).optional(),
    secret_access_key: z.string().min(1).optional(),
  })
  .strict();

/** The `storage:` block of a lake target, as validated. */
export type LakeStorageConfig = z.infer<typeof lakeStorageSchema>;

/**
 * Where a lake target is and how to reach it: its location (an absolute directory, `file://` or
 * `s3://bucket/prefix`) and, for `s3://`, its `storage:` block with `${VAR}`s already replaced.
 * The resolved target settings of a lake sink (`cdc run`, `cdc compact`, `cdc vacuum`) have this shape.
 */
export interface LakeTargetLocation {
  readonly location: string;
  readonly storage?: LakeStorageConfig;
}

/**
 * A lake location, checked: an absolute directory (from a path or a `file://` URL) or the
 * `s3://bucket/prefix` URL as given.
 * @throws {CdcError} CONFIG_INVALID for a relative path, another scheme, or an S3 URL without a
 *   valid bucket.
 */
export function lakeLocation(location: string): string {
  if (isS3Location(location)) {
    parseS3Location(location);
    return location;
  }
  const path = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new CdcError('CONFIG_INVALID', `target location ${redactText(location)}: only local directories and s3:// locations are supported`, {
      remedy: 'give an absolute directory such as /data/lake, or s3://bucket/prefix (with a storage: block for an S3-compatible server)',
    });
  }
  if (!isAbsolute(path)) {
    throw new CdcError('CONFIG_INVALID', `target location ${location} is a relative path`, { remedy: 'give an absolute directory such as /data/lake, or s3://bucket/prefix' });
  }
  return path;
}

/** True when `location` names a lake location this factory opens (an absolute path, `file://`, `s3://`). */
export function isLakeLocation(location: string): boolean {
  return location.startsWith('/') || location.startsWith('file://') || isS3Location(location);
}

/**
 * The storage of a lake location: {@link S3Storage} for `s3://bucket/prefix` (with `storage`'s
 * endpoint, region and keys), else {@link LocalStorage} in the directory.
 * @throws {CdcError} CONFIG_INVALID for a location {@link lakeLocation} refuses, a `storage:`
 *   block given with a local directory, or only one of the two keys.
 */
export function openLakeStorage(location: string, storage?: LakeStorageConfig): LakeStorage {
  const checked = lakeLocation(location);
  if (!isS3Location(checked)) {
    if (storage && Object.keys(storage).length > 0) {
      throw new CdcError('CONFIG_INVALID', `target location ${checked} is a local directory, but a storage: block is set`, {
        remedy: 'remove storage: (it is for s3:// locations), or give an s3://bucket/prefix location',
      });
    }
    return new LocalStorage(checked);
  }
  return new S3Storage(checked, {
    ...(storage?.endpoint !== undefined ? { endpoint: storage.endpoint } : {}),
    ...(storage?.region !== undefined ? { region: storage.region } : {}),
    ...(storage?.access_key_id !== undefined ? { accessKeyId: storage.access_key_id } : {}),
    ...(storage?.secret_access_key !== undefined ? { secretAccessKey: storage.secret_access_key } : {}),
  });
}
