import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from './config.js';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-config-'));
  const path = join(dir, 'cdc.yaml');
  writeFileSync(path, text);
  return path;
}

describe('cdc.yaml', () => {
  it('reads fields and substitutes ${VAR} from the environment', () => {
    process.env.CDC_TEST_PASSWORD = 's3cret';
    const config = loadRunConfig(file('name: shop\nsource:\n  url: postgres://u:${CDC_TEST_PASSWORD}@h/db\ntables: [public.*]\n'));
    expect(config.name).toBe('shop');
    expect(config.source).toEqual({ type: 'postgres', url: 'postgres://u:s3cret@h/db' });
    expect(config.tables).toEqual(['public.*']);
  });

  it('names file, line and field for an unknown key', () => {
    const path = file('name: shop\ntarget:\n  url: postgres://x/y\n  pasword: x\n');
    expect(() => loadRunConfig(path)).toThrow(new RegExp(`${path}:4: target pasword`));
  });

  it('names the line of a mistyped value', () => {
    const path = file('name: shop\nmetrics_port: ninety\n');
    expect(() => loadRunConfig(path)).toThrow(new RegExp(`${path}:2: metrics_port`));
  });

  it('reports YAML syntax errors with line and column', () => {
    const path = file('name: shop\nsource:\n  url: [unclosed\n');
    expect(() => loadRunConfig(path)).toThrow(/YAML syntax error/);
  });

  it('refuses an unset variable instead of substituting an empty string', () => {
    const path = file('source:\n  url: postgres://u:${CDC_TEST_UNSET_VAR}@h/db\n');
    expect(() => loadRunConfig(path)).toThrow(/CDC_TEST_UNSET_VAR is not set/);
  });

  it('names a missing file', () => {
    expect(() => loadRunConfig('/nonexistent/cdc.yaml')).toThrow(/cannot read config file \/nonexistent\/cdc.yaml/);
  });

  it('reads a debezium section with kafka, and wants exactly one broker', () => {
    const config = loadRunConfig(file('target: {url: postgres://h/w}\ndebezium:\n  kafka:\n    brokers: [k1:9092, k2:9092]\n    topic_pattern: ^dbz\\.\n    group_id: g\n    session_timeout_ms: 10000\n'));
    expect(config.debezium?.kafka).toEqual({ brokers: ['k1:9092', 'k2:9092'], topic_pattern: '^dbz\\.', group_id: 'g', session_timeout_ms: 10000 });
    const both = file('debezium:\n  nats: {url: nats://h, stream: s}\n  kafka: {brokers: [k:9092], topics: [t]}\n');
    expect(() => loadRunConfig(both)).toThrow(new RegExp(`${both}:2: debezium: give exactly one of nats and kafka`));
    const noTopics = file('debezium:\n  kafka:\n    brokers: [k:9092]\n');
    expect(() => loadRunConfig(noTopics)).toThrow(/debezium.kafka: give topics or topic_pattern/);
    const badBroker = file('debezium:\n  kafka:\n    brokers: [kafka]\n    topics: [t]\n');
    expect(() => loadRunConfig(badBroker)).toThrow(new RegExp(`${badBroker}:3: debezium.kafka.brokers\\[0\\]: expected host:port`));
  });
});
