import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTargetSettings } from './target-settings.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-target-settings-'));
  dirs.push(dir);
  const path = join(dir, 'cdc.yaml');
  writeFileSync(path, text);
  return path;
}

const S3_CONFIG = [
  'name: shop',
  'source: { url: "postgres://u@h/db" }',
  'target:',
  '  type: delta',
  '  location: s3://lake-bucket/cdc',
  '  storage:',
  '    endpoint: http://127.0.0.1:9000',
  '    region: eu-central-1',
  '    access_key_id: ${CDC_TEST_TS_KEY}',
  '    secret_access_key: ${CDC_TEST_TS_SECRET}',
  '',
].join('\n');

describe('resolveTargetSettings (cdc status, compact, vacuum)', () => {
  it('takes a lake target with its storage: block from cdc.yaml, ${VAR}s from the environment, as cdc run does', () => {
    process.env.CDC_TEST_TS_KEY = 'key-id';
    process.env.CDC_TEST_TS_SECRET = 'the-secret';
    const settings = resolveTargetSettings({ config: file(S3_CONFIG) });
    expect(settings.url).toBe('s3://lake-bucket/cdc');
    expect(settings.lake?.location).toBe('s3://lake-bucket/cdc');
    expect(settings.lake?.storage).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'eu-central-1', access_key_id: 'key-id', secret_access_key: 'the-secret' });
    expect(settings.sourceUrl).toBe('postgres://u@h/db');
    expect(settings.name).toBe('shop');
  });

  it('flags override the file: --target replaces the target (storage: block included), --source and --name theirs', () => {
    process.env.CDC_TEST_TS_KEY = 'key-id';
    process.env.CDC_TEST_TS_SECRET = 'the-secret';
    const settings = resolveTargetSettings({ config: file(S3_CONFIG), target: '/data/lake', source: 'postgres://other@h/db', name: 'other' });
    expect(settings.url).toBe('/data/lake');
    expect(settings.lake?.location).toBe('/data/lake');
    expect(settings.lake?.storage).toBeUndefined();
    expect(settings.sourceUrl).toBe('postgres://other@h/db');
    expect(settings.name).toBe('other');
  });

  it('a PostgreSQL target has no lake settings', () => {
    expect(resolveTargetSettings({ target: 'postgres://u@h/t' })).toEqual({ url: 'postgres://u@h/t', lake: undefined, sourceUrl: undefined, name: undefined });
    const settings = resolveTargetSettings({ config: file('target: { url: "postgres://u@h/t" }\n') });
    expect(settings.url).toBe('postgres://u@h/t');
    expect(settings.lake).toBeUndefined();
  });

  it('an unset ${VAR} names the file, the line and the variable', () => {
    delete process.env.CDC_TEST_TS_SECRET;
    process.env.CDC_TEST_TS_KEY = 'key-id';
    const path = file(S3_CONFIG);
    expect(() => resolveTargetSettings({ config: path })).toThrow(new RegExp(`${path}:10: .*CDC_TEST_TS_SECRET is not set`));
  });

  it('no target at all is CONFIG_INVALID naming the file and the remedy', () => {
    const path = file('name: shop\n');
    expect(() => resolveTargetSettings({ config: path })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: `${path} has no target: section, and no --target was given` }));
    expect(() => resolveTargetSettings({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', remedy: expect.stringContaining('--config') }));
  });
});
