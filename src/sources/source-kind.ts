/**
 * A kind of source as the composition root sees it: a `type` name (as in cdc.yaml's
 * `source: { type: … }`) and a factory. Each kind's folder exports one; `src/run/registry.ts`
 * lists them.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ChangeSource } from './change-source.js';

/** What every source factory is given besides its own settings. */
export interface SourceContext {
  /** Pipeline name: slot and publication, consumer group, checkpoint rows. */
  readonly name: string;
  readonly log: Logger;
  /** Schemas the sink keeps its own objects in (`SinkDialect.reservedSchemas`): never captured. */
  readonly reservedSchemas: readonly string[];
}

/** One kind of source. */
export interface SourceKind<Config extends { readonly type: string }> {
  readonly type: Config['type'];
  /** The schema of its `source: { type: …, … }` section in cdc.yaml. */
  readonly configSchema: z.ZodType;
  /**
   * Builds the source; it connects on `open()`.
   * @throws {CdcError} CONFIG_INVALID for settings the kind cannot use.
   */
  create(config: Config, context: SourceContext): ChangeSource;
}
