import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findJava, kafkaClassPath, kafkaLibDir } from './throwaway-kafka.js';

describe('throwaway Kafka: what it needs', () => {
  let scratch: string;
  const saved = { ...process.env };
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'cdc-kafka-needs-'));
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(scratch, { recursive: true, force: true });
  });

  it('looks for the jars where oracles/kafka/fetch.sh puts them, and says to run it when they are not there', () => {
    delete process.env.CDC_KAFKA_LIBS;
    process.env.XDG_CACHE_HOME = scratch;
    expect(kafkaLibDir()).toMatch(new RegExp(`^${scratch}/cdc-merge/kafka-\\d+\\.\\d+\\.\\d+-[0-9a-f]{12}/libs$`));
    expect(() => kafkaClassPath()).toThrow(/jars are not in .*: run `bash oracles\/kafka\/fetch\.sh` once/);
    process.env.CDC_KAFKA_LIBS = join(scratch, 'libs');
    expect(kafkaLibDir()).toBe(join(scratch, 'libs'));
    expect(() => kafkaClassPath()).toThrow(/set CDC_KAFKA_LIBS to a folder of Kafka 4 jars/);
    mkdirSync(join(scratch, 'libs'));
    expect(kafkaClassPath()).toBe(join(scratch, 'libs', '*'));
  });

  it('refuses a Java older than 17, naming it', async () => {
    mkdirSync(join(scratch, 'bin'));
    writeFileSync(join(scratch, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n');
    chmodSync(join(scratch, 'bin', 'java'), 0o755);
    process.env.JAVA_HOME = scratch;
    await expect(findJava()).rejects.toThrow(/is not Java 17 or later \(openjdk version "11\.0\.22"/);
  });
});
