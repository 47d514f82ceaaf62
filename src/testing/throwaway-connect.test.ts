import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectHome, startThrowawayConnect, workerProperties } from './throwaway-connect.js';

describe('throwaway Kafka Connect: what it needs', () => {
  let scratch: string;
  const saved = { ...process.env };
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'cdc-connect-needs-'));
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(scratch, { recursive: true, force: true });
  });

  it('looks for the jars where oracles/kafka/connect/fetch.sh puts them, and says to run it when they are not there', async () => {
    delete process.env.CDC_CONNECT_HOME;
    process.env.XDG_CACHE_HOME = scratch;
    expect(connectHome()).toMatch(new RegExp(`^${scratch}/cdc-merge/connect-\\d+\\.\\d+\\.\\d+-[0-9a-f]{12}$`));
    await expect(startThrowawayConnect({ bootstrap: '127.0.0.1:9' })).rejects.toThrow(/jars are not in .*: run `bash oracles\/kafka\/connect\/fetch\.sh` once/);
    process.env.CDC_CONNECT_HOME = join(scratch, 'elsewhere');
    expect(connectHome()).toBe(join(scratch, 'elsewhere'));
    await expect(startThrowawayConnect({ bootstrap: '127.0.0.1:9' })).rejects.toThrow(/set CDC_CONNECT_HOME to a folder with libs\/ and plugins\//);
  });

  it('writes a worker on loopback with JSON and schemas, whose settings the caller may override', () => {
    const text = workerProperties({ bootstrap: '127.0.0.1:9092', port: 18083, offsetsFile: '/t/o', pluginPath: '/p', settings: { 'value.converter.schemas.enable': false } });
    const lines = text.split('\n');
    expect(lines).toContain('bootstrap.servers=127.0.0.1:9092');
    expect(lines).toContain('listeners=http://127.0.0.1:18083');
    expect(lines).toContain('plugin.path=/p');
    expect(lines).toContain('offset.storage.file.filename=/t/o');
    expect(lines).toContain('key.converter.schemas.enable=true');
    expect(lines).toContain('value.converter.schemas.enable=false');
    expect(lines.filter((l) => l.startsWith('value.converter.schemas.enable='))).toHaveLength(1);
  });
});
