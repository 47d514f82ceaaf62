/**
 * Kafka security against a real broker (issue 15, item 6): one throwaway broker with a
 * SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 users) and an SSL listener
 * whose certificate a CA made by the test signed; the built `cdc run --until-caught-up` reads
 * Debezium events through each (the password from `${VAR}`, the CA from `tls.ca_file`) into a
 * target equal to what was sent. Wrong credentials and an untrusted certificate stop it with an
 * error that names the brokers and never the password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../src/schema/table.js';
import { debeziumEvent, debeziumKey, type TextRow } from '../src/testing/debezium-events.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../src/testing/throwaway-cluster.js';
import { startThrowawayKafka, type ThrowawayKafka } from '../src/testing/throwaway-kafka.js';
import { startCli } from './support/cli.js';

const accounts: TableSchema = {
  id: { schema: 'public', name: 'accounts' },
  columns: [
    { name: 'id', type: 'integer', nullable: false, toastable: false },
    { name: 'amount', type: 'integer', nullable: true, toastable: false },
  ],
  primaryKey: ['id'],
};
const TOPIC = 'secure.public.accounts';
const PASSWORD = 'alice-Secret-42';

let cluster: ThrowawayCluster;
let kafka: ThrowawayKafka;
let root: string;

beforeAll(async () => {
  [cluster, kafka] = await Promise.all([
    startThrowawayCluster({ label: 'kafka-security' }),
    startThrowawayKafka({ label: 'kafka-security', saslUsers: { alice: PASSWORD }, tls: true }),
  ]);
  root = mkdtempSync(join(tmpdir(), 'cdc-kafka-security-'));
  // The events, written over the plain listener.
  const producer = new Producer({ clientId: 'kafka-security test', bootstrapBrokers: [kafka.bootstrap], serializers: stringSerializers, autocreateTopics: true });
  try {
    let lsn = 1000n;
    const messages = [1, 2, 3].map((id) => {
      lsn += 8n;
      const row: TextRow = { id: String(id), amount: String(id * 10) };
      return { topic: TOPIC, key: debeziumKey(accounts, row), value: debeziumEvent({ table: accounts, op: 'c', after: row, lsn, txId: Number(lsn), tsMs: 1_700_000_000_000 }) };
    });
    await producer.send({ messages });
  } finally {
    await producer.close();
  }
}, 120_000);

afterAll(async () => {
  await kafka?.stop();
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** `cdc run --until-caught-up` with `kafka` as the YAML of debezium.kafka's extra settings. */
async function catchUp(name: string, brokers: string, kafkaYaml: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; targetUrl: string }> {
  const targetUrl = await cluster.createDatabase(name);
  const config = join(root, `${name}.yaml`);
  writeFileSync(config, `name: ${name}\ntarget: { url: "${targetUrl}" }\ndebezium:\n  kafka:\n    brokers: ["${brokers}"]\n    topics: [${TOPIC}]\n    session_timeout_ms: 6000\n${kafkaYaml}`);
  const run = startCli(['run', '--config', config, '--until-caught-up'], env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stderr: run.stderr(), targetUrl };
}

async function rows(url: string): Promise<string[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<{ id: number; amount: number }>('SELECT id, amount FROM public.accounts ORDER BY id')).rows.map((r) => `${r.id}=${r.amount}`);
  } finally {
    await client.end();
  }
}

describe('Kafka with SASL and TLS (real broker)', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
    it(`reads through SASL ${mechanism}, the password from \${VAR}`, async () => {
      const name = `sasl_${mechanism.replaceAll('-', '_').toLowerCase()}`;
      const r = await catchUp(name, kafka.saslBootstrap!, `    sasl: { mechanism: ${mechanism}, username: alice, password: "\${KAFKA_PASSWORD}" }\n`, { KAFKA_PASSWORD: PASSWORD });
      expect(r.code, r.stderr).toBe(0);
      expect(await rows(r.targetUrl)).toEqual(['1=10', '2=20', '3=30']);
      expect(r.stderr).not.toContain(PASSWORD);
    });
  }

  it('reads over TLS, trusting the CA given in tls.ca_file', async () => {
    const r = await catchUp('tls_ca', kafka.sslBootstrap!, `    tls: { ca_file: "${kafka.caFile!}" }\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(await rows(r.targetUrl)).toEqual(['1=10', '2=20', '3=30']);
  });

  it('stops on a wrong password or an untrusted certificate, naming the brokers and never the password', async () => {
    const wrong = await catchUp('sasl_wrong', kafka.saslBootstrap!, `    sasl: { mechanism: SCRAM-SHA-256, username: alice, password: "\${KAFKA_PASSWORD}" }\n`, { KAFKA_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('AUTHENTICATION_FAILED');
    expect(wrong.stderr).toContain(kafka.saslBootstrap!);
    expect(wrong.stderr).not.toContain('not-the-password');

    const untrusted = await catchUp('tls_untrusted', kafka.sslBootstrap!, '    tls: true\n');
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('TLS_UNTRUSTED');
    expect(untrusted.stderr).toContain(kafka.sslBootstrap!);

    const missing = await catchUp('tls_missing', kafka.sslBootstrap!, `    tls: { ca_file: "${join(root, 'nope.pem')}" }\n`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/debezium\.kafka\.tls\.ca_file: cannot read .*nope\.pem/);
  });
});
