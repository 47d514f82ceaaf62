/**
 * The target (and PostgreSQL source) of the commands that read or maintain a target without
 * running a pipeline (`cdc status`, `cdc compact`, `cdc vacuum`), taken from `--config
 * cdc.yaml` and the flags as `cdc run` takes them: `${VAR}` in the file read from the
 * environment, `--target` and `--source` over the file's sections, `--name` over `name:`. A lake
 * target given in the file keeps its `storage:` block (endpoint, region, keys), so these commands
 * reach an `s3://` location exactly as `cdc run` does.
 */
import { CdcError } from '../errors.js';
import { loadRunConfig } from './config.js';
import { resolveLakeTarget, type TargetConfig } from './registry.js';

/** Flags of a command that takes a target: `--config`, `--target`, and for some `--source`, `--name`. */
export interface TargetFlags {
  /** cdc.yaml. */
  readonly config?: string;
  /** A target URL or lake location, over the file's `target:`. */
  readonly target?: string;
  /** A PostgreSQL source URL, over the file's `source: { url }`. */
  readonly source?: string;
  /** A pipeline name, over the file's `name:`. */
  readonly name?: string;
}

/** A command's target, resolved. */
export interface TargetSettings {
  /** The target URL or lake location (`postgres://…`, `/data/lake`, `s3://bucket/prefix`). */
  readonly url: string;
  /**
   * A lake target's settings (its location and its `storage:` block, `${VAR}`s replaced);
   * undefined for a PostgreSQL target.
   */
  readonly lake: Extract<TargetConfig, { readonly location: string }> | undefined;
  /** The PostgreSQL source URL (`--source`, else cdc.yaml `source.url` of a postgres source), if any. */
  readonly sourceUrl: string | undefined;
  /** The pipeline name (`--name`, else cdc.yaml `name:`), if any. */
  readonly name: string | undefined;
}

/**
 * Resolves the target of `flags` (and the source and name, for `cdc status`).
 * @throws {CdcError} CONFIG_INVALID when neither `--target` nor a `target:` section in the config
 *   file is given, for a lake location the sink refuses, and everything {@link loadRunConfig}
 *   throws (a file that cannot be read, a field that does not validate, an unset `${VAR}`, each
 *   naming the file and the line).
 */
export function resolveTargetSettings(flags: TargetFlags): TargetSettings {
  const file = flags.config ? loadRunConfig(flags.config) : undefined;
  const section = file?.target;
  const lake = resolveLakeTarget(flags.target, section);
  const url = flags.target ?? lake?.url ?? (section?.type === 'postgresql' ? section.url : undefined);
  if (url === undefined) {
    throw new CdcError('CONFIG_INVALID', flags.config ? `${flags.config} has no target: section, and no --target was given` : 'no target given', {
      remedy: 'pass --config cdc.yaml (with a target: section), or --target <URL or location>',
    });
  }
  const sourceUrl = flags.source ?? (file?.source?.type === 'postgres' ? file.source.url : undefined);
  return { url, lake: lake && 'location' in lake ? lake : undefined, sourceUrl, name: flags.name ?? file?.name };
}
