/**
 * A throwaway Kafka Connect worker for tests: one JVM running
 * `org.apache.kafka.connect.cli.ConnectStandalone` against a given broker, its REST API on a free
 * port of 127.0.0.1, its source offsets in a file of a temporary directory, stopped and removed
 * by {@link ThrowawayConnect.stop}. Connectors are created through the REST API
 * ({@link ThrowawayConnect.startConnector}), as an operator would.
 *
 * The worker runs from the Connect jars on Maven Central, not from a release tarball, with the
 * Debezium PostgreSQL connector as a plug-in folder of its `plugin.path` (loaded in its own class
 * loader, as in a deployment): `oracles/kafka/connect/fetch.sh` copies both once into a cache
 * folder, which {@link connectHome} names.
 * @see https://kafka.apache.org/documentation/#connect_running
 * @see https://kafka.apache.org/documentation/#connect_rest
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './throwaway-cluster.js';
import { findJava, mavenCacheDir } from './throwaway-kafka.js';

/** Options for {@link startThrowawayConnect}. */
export interface ThrowawayConnectOptions {
  /** The broker's bootstrap address, `host:port` (e.g. `ThrowawayKafka.bootstrap`). */
  readonly bootstrap: string;
  /** A label used in the directory name, for finding a worker's files while debugging. */
  readonly label?: string;
  /** Maximum Java heap, MiB (default 512: one connector streaming a test's few rows). */
  readonly heapMb?: number;
  /**
   * Extra worker settings, overriding the harness's own (see {@link workerProperties}), e.g.
   * `{ 'value.converter.schemas.enable': false }`.
   */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** How long to wait for the REST API to answer, ms (default 60 000). */
  readonly startTimeoutMs?: number;
}

/** The state of a connector and its tasks, as `GET /connectors/<name>/status` reports it. */
export interface ConnectorStatus {
  readonly name: string;
  readonly connector: { readonly state: string; readonly trace?: string };
  readonly tasks: readonly { readonly id: number; readonly state: string; readonly trace?: string }[];
}

/** A running throwaway worker. */
export interface ThrowawayConnect {
  /** `http://127.0.0.1:<port>`: the worker's REST API. */
  readonly restUrl: string;
  /** Root directory holding the worker's properties and its offsets file. */
  readonly dir: string;
  /**
   * Creates (or reconfigures) connector `name` with `config` (`PUT /connectors/<name>/config`;
   * values are sent as strings) and resolves once the connector and each of its tasks are
   * RUNNING. For Debezium's PostgreSQL connector that is after its slot exists: a change made
   * from then on is streamed (or taken by the initial snapshot).
   * @throws {Error} with the REST answer or the failed task's stack trace, or on timeout
   *   (default 60 000 ms) with the worker's output.
   */
  startConnector(name: string, config: Readonly<Record<string, string | number | boolean>>, timeoutMs?: number): Promise<void>;
  /** `GET /connectors/<name>/status`. @throws {Error} with the REST answer when not 200. */
  status(name: string): Promise<ConnectorStatus>;
  /**
   * Deletes connector `name` (`DELETE /connectors/<name>`): its task stops (Debezium drops its
   * slot when `slot.drop.on.stop=true`). @throws {Error} with the REST answer when refused.
   */
  deleteConnector(name: string): Promise<void>;
  /** The worker's output so far (log4j at WARN), for failure messages. */
  output(): string;
  /**
   * Kills the worker with SIGKILL (`kill -9`: no offsets flushed, no connector stopped; a
   * Debezium slot stays) and waits for the process to exit.
   */
  kill(): Promise<void>;
  /**
   * Starts the worker again after {@link ThrowawayConnect.kill}: same port, properties and
   * offsets file. A standalone worker keeps connectors created over REST in memory only, so
   * call {@link ThrowawayConnect.startConnector} again with the same config: the connector
   * resumes from the offsets it had flushed (changes after them are streamed again).
   * @throws {Error} when the REST API does not answer within the start timeout.
   */
  start(): Promise<void>;
  /**
   * Stops the worker (SIGTERM, so connectors stop cleanly; SIGKILL after 15 s) and removes its
   * directory. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** The poms that list the worker's jars and the connector plug-in, in the repository. */
const POM = fileURLToPath(new URL('../../oracles/kafka/connect/pom.xml', import.meta.url));
const PLUGIN_POM = fileURLToPath(new URL('../../oracles/kafka/connect/debezium-postgres/pom.xml', import.meta.url));

/**
 * The folder of the worker's jars (`libs/`) and plug-ins (`plugins/`): `$CDC_CONNECT_HOME` when
 * set, otherwise `<cache>/cdc-merge/connect-<kafka version>-<hash of both poms>` under
 * `$XDG_CACHE_HOME` or `~/.cache`, where `oracles/kafka/connect/fetch.sh` puts them (the same
 * name, computed the same way).
 * @throws {Error} when the poms cannot be read (the harness runs outside the repository).
 */
export function connectHome(): string {
  const fromEnv = process.env.CDC_CONNECT_HOME;
  if (fromEnv) return fromEnv;
  return mavenCacheDir('connect', [POM, PLUGIN_POM], 'set CDC_CONNECT_HOME');
}

/**
 * The worker's settings: the broker, the JSON converter with schemas for keys and values (what
 * cdc-merge's `debezium.kafka` source reads best), offsets flushed every second to `offsetsFile`,
 * the REST API on `port` of 127.0.0.1 and plug-ins from `pluginPath`; `settings` override them.
 */
export function workerProperties(p: { bootstrap: string; port: number; offsetsFile: string; pluginPath: string; settings?: ThrowawayConnectOptions['settings'] }): string {
  const settings: Record<string, string | number | boolean> = {
    'bootstrap.servers': p.bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': true,
    'value.converter.schemas.enable': true,
    'offset.storage.file.filename': p.offsetsFile,
    // Default 60 s: a test that restarts the worker should not replay a minute of changes.
    'offset.flush.interval.ms': 1000,
    listeners: `http://127.0.0.1:${p.port}`,
    'plugin.path': p.pluginPath,
    ...p.settings,
  };
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n');
}

/** log4j 2 for the worker: WARN and above to standard output (the harness keeps its tail). */
const LOG4J2 = ['appender.out.type=Console', 'appender.out.name=OUT', 'appender.out.layout.type=PatternLayout', 'appender.out.layout.pattern=[%d] %p %m (%c)%n', 'rootLogger.level=WARN', 'rootLogger.appenderRef.out.ref=OUT'].join('\n');

/** Output kept per worker, bytes (the tail is what explains a failure). */
const OUTPUT_KEPT = 64 * 1024;

const live = new Set<ChildProcess>();
let hooked = false;

function killAllAtExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A REST call; resolves to the status and the parsed body (or the text when not JSON). */
async function rest(url: string, init?: { method: string; body?: unknown }): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: init?.method ?? 'GET',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}

/**
 * Starts a standalone worker on a free loopback port; resolves once its REST API lists
 * connectors (the herder is up).
 * @throws {Error} telling to run `bash oracles/kafka/connect/fetch.sh` when the jars are
 *   missing, naming the Java found when it is older than 17, or with the worker's output when it
 *   does not answer within `startTimeoutMs`.
 */
export async function startThrowawayConnect(options: ThrowawayConnectOptions): Promise<ThrowawayConnect> {
  const home = connectHome();
  const fetched = process.env.CDC_CONNECT_HOME ? existsSync(join(home, 'libs')) : existsSync(join(home, 'complete'));
  if (!fetched) {
    throw new Error(`the Kafka Connect jars are not in ${home}: run \`bash oracles/kafka/connect/fetch.sh\` once (Maven and Maven Central; oracles/setup.sh does it), or set CDC_CONNECT_HOME to a folder with libs/ and plugins/`);
  }
  const java = await findJava();
  const dir = mkdtempSync(join(tmpdir(), `cdc-connect-${options.label ?? 'worker'}-`));
  const log4jFile = join(dir, 'log4j2.properties');
  const propertiesFile = join(dir, 'worker.properties');
  writeFileSync(log4jFile, `${LOG4J2}\n`);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  try {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      writeFileSync(propertiesFile, `${workerProperties({ bootstrap: options.bootstrap, port, offsetsFile: join(dir, 'connect.offsets'), pluginPath: join(home, 'plugins'), settings: options.settings })}\n`);
      const jvm = [`-Xmx${options.heapMb ?? 512}m`, '-Xms64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', join(home, 'libs', '*')];
      const spawned = spawn(java, [...jvm, 'org.apache.kafka.connect.cli.ConnectStandalone', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = spawned;
      const keep = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_KEPT));
      spawned.stdout?.on('data', keep);
      spawned.stderr?.on('data', keep);
      live.add(spawned);
      killAllAtExit();
      let gone = false;
      exited = new Promise<void>((resolve) => spawned.once('exit', () => resolve()));
      void exited.then(() => {
        gone = true;
        live.delete(spawned);
      });
      const restUrl = `http://127.0.0.1:${port}`;
      const relaunch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
        const again = spawn(java, [...jvm, 'org.apache.kafka.connect.cli.ConnectStandalone', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
        again.stdout?.on('data', keep);
        again.stderr?.on('data', keep);
        live.add(again);
        let over = false;
        const againExited = new Promise<void>((resolve) => again.once('exit', () => resolve()));
        void againExited.then(() => {
          over = true;
          live.delete(again);
        });
        const until = Date.now() + timeoutMs;
        while (!over && Date.now() < until) {
          if ((await rest(`${restUrl}/connectors`).catch(() => undefined))?.status === 200) return { child: again, exited: againExited };
          await new Promise((r) => setTimeout(r, 250));
        }
        again.kill('SIGKILL');
        await againExited;
        throw new Error(`the throwaway Kafka Connect did not start again: ${over ? 'the worker exited' : 'its REST API did not answer in time'}\n${output}`);
      };
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      let ready = false;
      while (!gone && Date.now() < deadline) {
        try {
          const answer = await rest(`${restUrl}/connectors`);
          if (answer.status === 200) {
            ready = true;
            break;
          }
          last = new Error(`GET /connectors answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        } catch (error) {
          last = error;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!ready) {
        spawned.kill('SIGKILL');
        await exited;
        if (attempt < 2 && /Address already in use/.test(output)) continue;
        const why = gone ? 'the worker exited' : `its REST API did not answer in time (last: ${(last as Error | undefined)?.message ?? 'nothing'})`;
        throw new Error(`the throwaway Kafka Connect did not start: ${why}\n${output}`, { cause: last });
      }
      return worker({ restUrl, dir, child: spawned, exited, output: () => output, relaunch });
    }
  } catch (error) {
    child?.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The handle of a worker whose REST API answers. */
function worker(w: {
  restUrl: string;
  dir: string;
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
  relaunch: () => Promise<{ child: ChildProcess; exited: Promise<void> }>;
}): ThrowawayConnect {
  let stopped = false;
  const connect: ThrowawayConnect = {
    restUrl: w.restUrl,
    dir: w.dir,
    output: w.output,
    async kill() {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    },
    async start() {
      const next = await w.relaunch();
      w.child = next.child;
      w.exited = next.exited;
    },
    async status(name) {
      const answer = await rest(`${w.restUrl}/connectors/${encodeURIComponent(name)}/status`);
      if (answer.status !== 200) throw new Error(`GET /connectors/${name}/status answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body as ConnectorStatus;
    },
    async startConnector(name, config, timeoutMs = 60_000) {
      const body = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
      const put = await rest(`${w.restUrl}/connectors/${encodeURIComponent(name)}/config`, { method: 'PUT', body });
      if (put.status !== 200 && put.status !== 201) throw new Error(`PUT /connectors/${name}/config answered ${put.status}: ${JSON.stringify(put.body)}`);
      const deadline = Date.now() + timeoutMs;
      let last: ConnectorStatus | undefined;
      while (Date.now() < deadline) {
        try {
          last = await connect.status(name);
        } catch {
          // not created yet
        }
        const failed = last && [last.connector, ...last.tasks].find((s) => s.state === 'FAILED');
        if (failed) throw new Error(`connector ${name} failed:\n${failed.trace ?? '(no trace)'}`);
        if (last && last.connector.state === 'RUNNING' && last.tasks.length > 0 && last.tasks.every((t) => t.state === 'RUNNING')) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`connector ${name} was not running after ${timeoutMs} ms (last status: ${JSON.stringify(last)})\n${w.output()}`);
    },
    async deleteConnector(name) {
      const answer = await rest(`${w.restUrl}/connectors/${encodeURIComponent(name)}`, { method: 'DELETE' });
      if (answer.status !== 204 && answer.status !== 200) throw new Error(`DELETE /connectors/${name} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGTERM');
        // A clean stop lets connectors commit offsets and drop what they own; 15 s is generous
        // for one connector, and a worker that hangs past it is killed.
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
        await w.exited;
        clearTimeout(timer);
      }
      rmSync(w.dir, { recursive: true, force: true });
    },
  };
  return connect;
}
