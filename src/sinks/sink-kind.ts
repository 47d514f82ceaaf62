/**
 * A kind of sink as the composition root sees it: a `type` name (as in cdc.yaml's
 * `target: { type: … }`), its capabilities, and a factory. Each kind's folder exports one;
 * `src/run/registry.ts` lists them.
 */
import type { Logger } from 'pino';
import type { ChangeSink, SinkCapabilities } from './change-sink.js';

/** What every sink factory is given besides its own settings. */
export interface SinkContext {
  /** Pipeline name: keys the stored checkpoint and snapshot state. */
  readonly name: string;
  readonly log: Logger;
}

/** One kind of sink. */
export interface SinkKind<Config extends { readonly type: string }> {
  readonly type: Config['type'];
  readonly capabilities: SinkCapabilities;
  /**
   * Connects and returns the sink.
   * @throws {CdcError} for an unreachable target.
   */
  open(config: Config, context: SinkContext): Promise<ChangeSink>;
}
