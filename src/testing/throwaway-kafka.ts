/**
 * A throwaway Kafka broker for tests: one JVM in KRaft combined mode (broker and controller, node
 * 1) on two free ports of 127.0.0.1, its log directory in a temporary directory, killed and
 * removed by {@link ThrowawayKafka.stop}. It never uses a broker the machine already runs.
 *
 * The broker runs from the Kafka jars on Maven Central, not from a release tarball:
 * `oracles/kafka/fetch.sh` copies them (`oracles/kafka/pom.xml`) once into a cache folder, which
 * {@link kafkaLibDir} names; `java` (17 or later, as Kafka 4 needs) runs
 * `kafka.tools.StorageTool format` and then `kafka.Kafka server.properties`. Readiness is asked
 * of the broker through the project's own client (@platformatic/kafka), not read from its log.
 * @see https://kafka.apache.org/documentation/#kraft
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { freePort } from './throwaway-cluster.js';

const run = promisify(execFile);

/** Options for {@link startThrowawayKafka}. */
export interface ThrowawayKafkaOptions {
  /** A label used in the directory name, for finding a broker's files while debugging. */
  readonly label?: string;
  /** Maximum Java heap, MiB (default 512: a test broker holds little). */
  readonly heapMb?: number;
  /**
   * Extra `server.properties` settings, e.g. `{ 'auto.create.topics.enable': false }`. They
   * override the harness's own, so a wrong one can keep the broker from starting.
   */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** How long to wait for the broker to answer, ms (default 60 000). */
  readonly startTimeoutMs?: number;
  /**
   * Users (name → password) of an extra SASL_PLAINTEXT listener that takes PLAIN, SCRAM-SHA-256
   * and SCRAM-SHA-512 (the SCRAM credentials are stored when the log directory is formatted).
   */
  readonly saslUsers?: Readonly<Record<string, string>>;
  /**
   * An extra SSL listener, its certificate (for 127.0.0.1 and localhost) signed by a CA the
   * harness makes with `openssl` (see {@link ThrowawayKafka.caFile}).
   */
  readonly tls?: boolean;
}

/** A running throwaway broker. */
export interface ThrowawayKafka {
  /** `127.0.0.1:<port>`: the one bootstrap address (PLAINTEXT). */
  readonly bootstrap: string;
  /** The client port (PLAINTEXT listener). */
  readonly port: number;
  /** The KRaft controller port (clients never use it). */
  readonly controllerPort: number;
  /** Root directory holding `server.properties` and the log directory `data/`. */
  readonly dir: string;
  /** `127.0.0.1:<port>` of the SASL_PLAINTEXT listener (with `saslUsers`). */
  readonly saslBootstrap?: string;
  /** `127.0.0.1:<port>` of the SSL listener (with `tls`). */
  readonly sslBootstrap?: string;
  /** PEM file of the CA that signed the SSL listener's certificate (with `tls`). */
  readonly caFile?: string;
  /**
   * Kills the broker with SIGKILL (`kill -9`: no controlled shutdown, no flush) and waits for the
   * process to end. The ports and the log directory stay, for {@link ThrowawayKafka.start}.
   * Does nothing when it is not running.
   */
  kill(): Promise<void>;
  /**
   * Starts the broker again on the same ports and log directory (after {@link ThrowawayKafka.kill})
   * and resolves once every partition has a leader again: topics, messages and committed
   * offsets are kept, as in a broker restart. Does nothing when it is running.
   * @throws {Error} with the broker's output when it does not answer within the start timeout.
   */
  start(): Promise<void>;
  /** {@link ThrowawayKafka.kill} then {@link ThrowawayKafka.start}: a crash and a restart. */
  restart(): Promise<void>;
  /** The broker's output so far (log4j at WARN, and its standard output), for failure messages. */
  output(): string;
  /** Kills the broker and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The pom that lists the broker's jars, beside the sources (`src/` or `dist/`) in the repository. */
const POM = fileURLToPath(new URL('../../oracles/kafka/pom.xml', import.meta.url));

/**
 * The folder of the broker's jars: `$CDC_KAFKA_LIBS` when set (e.g. a Kafka release's `libs/`),
 * otherwise `<cache>/cdc-merge/kafka-<version>-<pom hash>/libs` under `$XDG_CACHE_HOME` or
 * `~/.cache`, where `oracles/kafka/fetch.sh` puts them (the same name, computed the same way).
 * @throws {Error} when `oracles/kafka/pom.xml` cannot be read (the harness runs outside the repository).
 */
export function kafkaLibDir(): string {
  const fromEnv = process.env.CDC_KAFKA_LIBS;
  if (fromEnv) return fromEnv;
  return join(mavenCacheDir('kafka', [POM], 'set CDC_KAFKA_LIBS to a folder of Kafka jars'), 'libs');
}

/**
 * The cache folder of jars fetched from `poms` (the fetch scripts compute the same name):
 * `<cache>/cdc-merge/<name>-<kafka.version>-<first 12 hex of the SHA-256 of the poms>` under
 * `$XDG_CACHE_HOME` or `~/.cache`.
 * @param otherwise what to do when the poms cannot be read, for the error message
 * @throws {Error} when a pom cannot be read or the first names no `<kafka.version>`.
 */
export function mavenCacheDir(name: string, poms: readonly string[], otherwise: string): string {
  let bytes: Buffer;
  try {
    bytes = Buffer.concat(poms.map((p) => readFileSync(p)));
  } catch (cause) {
    throw new Error(`cannot read ${poms.join(' and ')}: the throwaway servers run from a clone of the repository, or ${otherwise}`, { cause });
  }
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(bytes.toString('utf8'))?.[1];
  if (!version) throw new Error(`${poms[0]} names no <kafka.version>`);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'cdc-merge', `${name}-${version}-${hash}`);
}

/**
 * The class path of the broker: every jar of {@link kafkaLibDir}.
 * @throws {Error} telling to run `bash oracles/kafka/fetch.sh` when the jars are not there.
 */
export function kafkaClassPath(): string {
  const libs = kafkaLibDir();
  const fetched = process.env.CDC_KAFKA_LIBS ? existsSync(libs) : existsSync(join(libs, '..', 'complete'));
  if (!fetched) {
    throw new Error(
      `the Kafka broker's jars are not in ${libs}: run \`bash oracles/kafka/fetch.sh\` once (Maven and Maven Central; .ci/run does it), or set CDC_KAFKA_LIBS to a folder of Kafka 4 jars`,
    );
  }
  return join(libs, '*');
}

/** `java -version` checks, by the path asked (one per process and path). */
const javaChecked = new Map<string, Promise<string>>();

/**
 * The `java` to run the broker with (`$JAVA_HOME/bin/java` when set, else `java` on `PATH`),
 * checked once to be version 17 or later (Kafka 4 brokers need it).
 * @throws {Error} naming the version found, or saying how to install Java, when it does not fit.
 */
export function findJava(): Promise<string> {
  const home = process.env.JAVA_HOME;
  const java = home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java';
  let checked = javaChecked.get(java);
  if (checked) return checked;
  checked = (async () => {
    let banner: string;
    try {
      // `java -version` writes to standard error.
      banner = (await run(java, ['-version'])).stderr;
    } catch (cause) {
      throw new Error(`cannot run ${java}: the throwaway Kafka needs Java 17 or later (Debian: apt-get install openjdk-17-jre-headless), or set JAVA_HOME`, { cause });
    }
    const version = /version "(\d+)(?:\.(\d+))?/.exec(banner);
    const major = version ? (version[1] === '1' ? Number(version[2]) : Number(version[1])) : NaN;
    if (!(major >= 17)) throw new Error(`${java} is not Java 17 or later (${banner.split('\n')[0] ?? '?'}): Kafka 4 brokers need 17+; set JAVA_HOME to a newer JDK`);
    return java;
  })();
  javaChecked.set(java, checked);
  return checked;
}

/** Output kept per broker process, bytes (the tail is what explains a failure). */
const OUTPUT_KEPT = 64 * 1024;

/** A spawned broker JVM, with its own output and a promise of its exit. */
interface BrokerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killAllAtExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** The broker's settings: single node, loopback, every internal topic with one partition and one replica. */
function serverProperties(p: {
  port: number;
  controllerPort: number;
  dataDir: string;
  settings: ThrowawayKafkaOptions['settings'];
  sasl?: { port: number; users: Readonly<Record<string, string>> };
  ssl?: { port: number; keystore: string };
}): string {
  const listeners = [`PLAINTEXT://127.0.0.1:${p.port}`, ...(p.sasl ? [`SASL_PLAINTEXT://127.0.0.1:${p.sasl.port}`] : []), ...(p.ssl ? [`SSL://127.0.0.1:${p.ssl.port}`] : [])];
  const jaasQuote = (v: string) => JSON.stringify(v);
  const security: Record<string, string> = {};
  if (p.sasl) {
    security['sasl.enabled.mechanisms'] = 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512';
    const plainUsers = Object.entries(p.sasl.users).map(([u, pw]) => `user_${u}=${jaasQuote(pw)}`).join(' ');
    security['listener.name.sasl_plaintext.plain.sasl.jaas.config'] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`;
    security['listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config'] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    security['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config'] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  }
  if (p.ssl) {
    // A PEM keystore: the unencrypted PKCS#8 key and the certificate chain in one file (KIP-651).
    security['listener.name.ssl.ssl.keystore.type'] = 'PEM';
    security['listener.name.ssl.ssl.keystore.location'] = p.ssl.keystore;
  }
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${p.controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    listeners: [...listeners, `CONTROLLER://127.0.0.1:${p.controllerPort}`].join(','),
    'advertised.listeners': listeners.join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    ...security,
    'log.dirs': p.dataDir,
    'num.partitions': 1,
    // The internal topics default to 50 partitions (offsets) and 3 replicas: one of each here.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'share.coordinator.state.topic.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // After a kill -9 the controller keeps the broker's old registration until its session times
    // out (default 9 s) before the restarted broker is unfenced: 2 s keeps a restart near 4 s.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 2000,
    ...p.settings,
  };
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n');
}

/** log4j 2 for the broker: WARN and above to standard output (the harness keeps its tail). */
const LOG4J2 = ['appender.out.type=Console', 'appender.out.name=OUT', 'appender.out.layout.type=PatternLayout', 'appender.out.layout.pattern=[%d] %p %m (%c)%n', 'rootLogger.level=WARN', 'rootLogger.appenderRef.out.ref=OUT'].join('\n');

/** A free loopback port not in `taken` (added to it). */
async function freePortBut(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    return port;
  }
}

/**
 * Makes, with `openssl`, a CA and a broker certificate for 127.0.0.1 and localhost signed by it
 * in `dir`: `ca.pem` (for clients) and `broker.pem` (the broker's PEM keystore: its unencrypted
 * PKCS#8 key, then its certificate and the CA's).
 * @throws {Error} with openssl's output when a step fails (Debian: apt-get install openssl).
 */
async function makeCertificates(dir: string): Promise<{ caFile: string; keystore: string }> {
  const at = (name: string) => join(dir, name);
  const step = async (args: string[]) => {
    try {
      await run('openssl', args);
    } catch (cause) {
      const detail = cause as { stderr?: string; message?: string };
      throw new Error(`openssl ${args[0]} failed (the throwaway Kafka's TLS listener needs openssl): ${detail.stderr ?? detail.message ?? ''}`, { cause });
    }
  };
  await step(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=cdc-merge test CA']);
  await step(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('broker.key'), '-out', at('broker.csr'), '-subj', '/CN=localhost']);
  writeFileSync(at('broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await step(['x509', '-req', '-in', at('broker.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('broker.crt'), '-days', '2', '-extfile', at('broker.ext')]);
  await step(['pkcs8', '-topk8', '-nocrypt', '-in', at('broker.key'), '-out', at('broker.p8')]);
  writeFileSync(at('broker.pem'), [readFileSync(at('broker.p8'), 'utf8'), readFileSync(at('broker.crt'), 'utf8'), readFileSync(at('ca.pem'), 'utf8')].join(''));
  return { caFile: at('ca.pem'), keystore: at('broker.pem') };
}

/**
 * Resolves once the broker at `bootstrap` lists itself and every partition of every topic
 * (internal ones included) has a leader; rejects when `broker` exits first or at `deadline`.
 */
async function waitReady(bootstrap: string, broker: BrokerProcess, deadline: number): Promise<void> {
  let exited = false;
  void broker.exited.then(() => (exited = true));
  let last: unknown;
  while (!exited && Date.now() < deadline) {
    const admin = new Admin({ clientId: 'throwaway-kafka readiness', bootstrapBrokers: [bootstrap], retries: 0, timeout: 2000 });
    try {
      const topics = await admin.listTopics({ includeInternals: true });
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      // A topic being deleted may be listed without metadata: nothing to wait for there.
      const leaderless = [...metadata.topics].flatMap(([name, t]) => (t?.partitions ?? []).flatMap((p, i) => (p.leader < 0 ? [`${name}/${i}`] : [])));
      if (metadata.brokers.size > 0 && leaderless.length === 0) return;
      last = new Error(`partitions without a leader: ${leaderless.join(', ')}`);
    } catch (error) {
      last = error;
    } finally {
      await admin.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const why = exited ? 'the broker exited' : `it did not answer in time (last: ${(last as Error | undefined)?.message ?? 'nothing'})`;
  throw new Error(`the throwaway Kafka at ${bootstrap} did not start: ${why}\n${broker.output()}`, { cause: last });
}

/**
 * Formats a log directory and starts a broker on free loopback ports; resolves once it answers
 * metadata requests.
 * @throws {Error} telling to run `bash oracles/kafka/fetch.sh` when the jars are missing, naming
 *   the Java found when it is older than 17, or with the broker's output when it does not start
 *   within `startTimeoutMs`.
 */
export async function startThrowawayKafka(options: ThrowawayKafkaOptions = {}): Promise<ThrowawayKafka> {
  const classPath = kafkaClassPath();
  const java = await findJava();
  const dir = mkdtempSync(join(tmpdir(), `cdc-kafka-${options.label ?? 'broker'}-`));
  const propertiesFile = join(dir, 'server.properties');
  const log4jFile = join(dir, 'log4j2.properties');
  writeFileSync(log4jFile, `${LOG4J2}\n`);
  const jvm = [`-Xmx${options.heapMb ?? 512}m`, '-Xms64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', classPath];
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  // Every broker process's output, in order (the tail of OUTPUT_KEPT bytes).
  let output = '';

  const spawnBroker = (): BrokerProcess => {
    const child = spawn(java, [...jvm, 'kafka.Kafka', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let own = '';
    const keep = (d: Buffer) => {
      own = (own + d.toString()).slice(-OUTPUT_KEPT);
      output = (output + d.toString()).slice(-OUTPUT_KEPT);
    };
    output += `--- kafka.Kafka started at ${new Date().toISOString()}\n`;
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    live.add(child);
    killAllAtExit();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => live.delete(child));
    return { child, exited, output: () => own };
  };
  const kill = async (broker: BrokerProcess | undefined) => {
    if (!broker) return;
    if (broker.child.exitCode === null && broker.child.signalCode === null) broker.child.kill('SIGKILL');
    await broker.exited;
  };

  try {
    // The cluster id is any 16 random bytes in URL-safe base64 (what `kafka-storage random-uuid` prints).
    const clusterId = randomBytes(16).toString('base64url');
    const tls = options.tls ? await makeCertificates(dir) : undefined;
    const users = options.saslUsers;
    // SCRAM credentials live in the cluster metadata: stored when the log directory is formatted.
    const scram = Object.entries(users ?? {}).flatMap(([name, password]) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]),
    );
    for (let attempt = 0; ; attempt++) {
      const taken = new Set<number>();
      const port = await freePortBut(taken);
      const controllerPort = await freePortBut(taken);
      const saslPort = users ? await freePortBut(taken) : undefined;
      const sslPort = tls ? await freePortBut(taken) : undefined;
      writeFileSync(
        propertiesFile,
        `${serverProperties({
          port,
          controllerPort,
          dataDir: join(dir, 'data'),
          settings: options.settings,
          ...(users && saslPort ? { sasl: { port: saslPort, users } } : {}),
          ...(tls && sslPort ? { ssl: { port: sslPort, keystore: tls.keystore } } : {}),
        })}\n`,
      );
      if (attempt === 0) {
        try {
          await run(java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, ...scram]);
        } catch (cause) {
          const detail = cause as { stdout?: string; stderr?: string };
          throw new Error(`formatting the throwaway Kafka's storage failed:\n${detail.stdout ?? ''}${detail.stderr ?? ''}`, { cause });
        }
      }
      const bootstrap = `127.0.0.1:${port}`;
      let broker: BrokerProcess | undefined = spawnBroker();
      try {
        await waitReady(bootstrap, broker, Date.now() + timeoutMs);
      } catch (error) {
        await kill(broker);
        // A port taken between freePort() and the broker's bind: try others (the log directory
        // keeps no port).
        if (attempt < 2 && /Address already in use/.test(broker.output())) continue;
        throw error;
      }
      let stopped = false;
      const kafka: ThrowawayKafka = {
        bootstrap,
        port,
        controllerPort,
        dir,
        ...(saslPort ? { saslBootstrap: `127.0.0.1:${saslPort}` } : {}),
        ...(sslPort && tls ? { sslBootstrap: `127.0.0.1:${sslPort}`, caFile: tls.caFile } : {}),
        async kill() {
          await kill(broker);
          broker = undefined;
        },
        async start() {
          if (broker || stopped) return;
          // The ports were the broker's a moment ago; retry briefly in case a socket lingers.
          for (let tries = 0; ; tries++) {
            const next = spawnBroker();
            broker = next;
            try {
              await waitReady(bootstrap, next, Date.now() + timeoutMs);
              return;
            } catch (error) {
              await kill(next);
              broker = undefined;
              if (tries >= 2 || !/Address already in use/.test(next.output())) throw error;
              await new Promise((r) => setTimeout(r, 500));
            }
          }
        },
        async restart() {
          await kafka.kill();
          await kafka.start();
        },
        output: () => output,
        async stop() {
          if (stopped) return;
          stopped = true;
          await kafka.kill();
          rmSync(dir, { recursive: true, force: true });
        },
      };
      return kafka;
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
