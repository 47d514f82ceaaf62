/**
 * Where lake tables live, as the Delta (and later Iceberg) sinks need it: whole-object reads
 * and writes, a put-if-absent that never replaces what another writer created (the Delta
 * protocol's rule for log entries: PROTOCOL.md, "Creation of New Log Entries"), an atomic
 * replace for the sink's own state files, listing and deletion. Paths are relative to the
 * storage's root, with `/` separators.
 *
 * The local filesystem implementation writes a temporary file, flushes it, and then
 * `link()`s it to its name (fails with EEXIST when the name exists: an atomic no-replace on
 * POSIX filesystems) or `rename()`s it (atomic replace); readers never see a half-written
 * object.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { CdcError } from '../../errors.js';

/** One stored object. */
export interface StoredObject {
  /** Relative to the storage root, `/`-separated. */
  readonly path: string;
  /** Bytes. */
  readonly size: number;
  /** Last modification, ms since 1970-01-01 UTC. */
  readonly modifiedMs: number;
}

/** An object store or directory holding lake tables. */
export interface LakeStorage {
  /** A description for messages (`/data/lake`, `s3://bucket/prefix`). */
  readonly description: string;
  /** The object's bytes, or null when there is none. */
  read(path: string): Promise<Uint8Array | null>;
  /** Writes an object whose name is unique (a data file): visible whole or not at all. */
  write(path: string, bytes: Uint8Array): Promise<void>;
  /**
   * Creates the object only when no object of that name exists.
   * @returns false when one exists already (another writer won), true when written.
   */
  putIfAbsent(path: string, bytes: Uint8Array): Promise<boolean>;
  /** Replaces the object (or creates it) atomically. */
  replace(path: string, bytes: Uint8Array): Promise<void>;
  /** Objects whose path starts with `prefix` (a directory ending in `/`, or a name prefix), in no set order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes the object; nothing happens when there is none. */
  delete(path: string): Promise<void>;
}

/**
 * Lake storage in a local directory.
 * @throws {CdcError} TARGET_UNWRITABLE from its methods, naming the path and the system error,
 *   when the directory cannot be written.
 */
export class LocalStorage implements LakeStorage {
  readonly description: string;

  /** @param root an absolute directory (created when written to). */
  constructor(private readonly root: string) {
    this.description = root;
  }

  private full(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  async read(path: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.full(path)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.failed('read', path, error);
    }
  }

  /** Writes `bytes` to a fresh temporary file beside `path`, flushed; returns its name. */
  private async temporary(path: string, bytes: Uint8Array): Promise<string> {
    const target = this.full(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${randomUUID()}.tmp`);
    const handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    await this.replace(path, bytes);
  }

  async putIfAbsent(path: string, bytes: Uint8Array): Promise<boolean> {
    let tmp: string | undefined;
    try {
      tmp = await this.temporary(path, bytes);
      await link(tmp, this.full(path));
      await this.syncDirectory(path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw this.failed('create', path, error);
    } finally {
      if (tmp) await unlink(tmp).catch(() => undefined);
    }
  }

  async replace(path: string, bytes: Uint8Array): Promise<void> {
    let tmp: string | undefined;
    try {
      tmp = await this.temporary(path, bytes);
      await rename(tmp, this.full(path));
      tmp = undefined;
      await this.syncDirectory(path);
    } catch (error) {
      throw this.failed('write', path, error);
    } finally {
      if (tmp) await unlink(tmp).catch(() => undefined);
    }
  }

  /** Makes a new directory entry durable (a crash after it keeps the file). */
  private async syncDirectory(path: string): Promise<void> {
    const handle = await open(dirname(this.full(path)), constants.O_RDONLY).catch(() => undefined);
    if (!handle) return;
    try {
      await handle.sync().catch(() => undefined);
    } finally {
      await handle.close();
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const slash = prefix.lastIndexOf('/');
    const dir = slash >= 0 ? prefix.slice(0, slash) : '';
    const out: StoredObject[] = [];
    const walk = async (relDir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.full(relDir), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw this.failed('list', relDir, error);
      }
      for (const entry of entries) {
        const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (prefix.startsWith(`${rel}/`) || rel.startsWith(prefix) || `${rel}/`.startsWith(prefix)) await walk(rel);
        } else if (entry.isFile() && rel.startsWith(prefix) && !entry.name.endsWith('.tmp')) {
          const s = await stat(this.full(rel)).catch(() => undefined);
          if (s) out.push({ path: relative(this.root, this.full(rel)).split(sep).join('/'), size: s.size, modifiedMs: Math.floor(s.mtimeMs) });
        }
      }
    };
    await walk(dir);
    return out;
  }

  async delete(path: string): Promise<void> {
    await rm(this.full(path), { force: true }).catch((error: unknown) => {
      throw this.failed('delete', path, error);
    });
  }

  private failed(what: string, path: string, error: unknown): CdcError {
    const message = error instanceof Error ? error.message : String(error);
    return new CdcError('TARGET_UNWRITABLE', `could not ${what} ${join(this.root, path)}: ${message}`, {
      remedy: 'check that the target location exists on a local filesystem and that this user may write it',
    });
  }
}
