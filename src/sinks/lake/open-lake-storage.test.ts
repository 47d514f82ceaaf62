import { describe, expect, it } from 'vitest';
import { isLakeLocation, lakeLocation, lakeStorageSchema, openLakeStorage } from './open-lake-storage.js';
import { parseS3Location } from './s3-location.js';
import { S3Storage } from './s3-storage.js';
import { LocalStorage } from './storage.js';

describe('lake locations and the storage: block', () => {
  it('opens local directories and s3:// locations', () => {
    expect(openLakeStorage('/data/lake')).toBeInstanceOf(LocalStorage);
    expect(openLakeStorage('file:///data/my%20lake').description).toBe('/data/my lake');
    const s3 = openLakeStorage('s3://lake-bucket/cdc/prod/', { endpoint: 'http://127.0.0.1:9000', access_key_id: 'k', secret_access_key: 's' });
    expect(s3).toBeInstanceOf(S3Storage);
    expect(s3.description).toBe('s3://lake-bucket/cdc/prod');
    expect(openLakeStorage('s3://lake-bucket').description).toBe('s3://lake-bucket');
    expect(['/x', 'file:///x', 's3://b-1/x', 'S3://b-1'].map(isLakeLocation)).toEqual([true, true, true, true]);
    expect(['x/y', 'gs://b/x', 'postgres://h/db'].map(isLakeLocation)).toEqual([false, false, false]);
  });

  it('splits bucket and prefix and refuses bucket names S3 does not allow', () => {
    expect(parseS3Location('s3://my.bucket-1//a/b//')).toEqual({ bucket: 'my.bucket-1', prefix: 'a/b' });
    for (const bad of ['s3://', 's3:///x', 's3://ab/x', 's3://Upper/x', 's3://under_score', `s3://${'b'.repeat(64)}`]) {
      expect(() => parseS3Location(bad), bad).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('refuses relative paths, other schemes, a storage: block on a directory and half a key pair', () => {
    expect(() => lakeLocation('lake')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => lakeLocation('gs://b/x')).toThrow(/only local directories and s3:\/\//);
    expect(() => openLakeStorage('/data/lake', { region: 'eu-west-1' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => openLakeStorage('s3://bucket/x', { access_key_id: 'AKIA' })).toThrow(/both access_key_id and secret_access_key/);
    expect(() => openLakeStorage('s3://bucket/x', { secret_access_key: 'very-secret' })).toThrow(expect.not.stringContaining('very-secret'));
  });

  it('validates the storage: block strictly', () => {
    expect(lakeStorageSchema.safeParse({ endpoint: 'http://h:9000', region: 'r', access_key_id: 'a', secret_access_key: 's' }).success).toBe(true);
    expect(lakeStorageSchema.safeParse({ endpoint: 'h:9000' }).success).toBe(false);
    expect(lakeStorageSchema.safeParse({ bucket: 'x' }).success).toBe(false);
    expect(lakeStorageSchema.safeParse({ secret_access_key: '' }).success).toBe(false);
  });
});
