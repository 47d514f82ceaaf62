/**
 * Reuse of parsed JSON values that repeat from record to record (the embedded Kafka Connect
 * schema), by their exact text or its UTF-8 bytes; see `parseJson`'s `reuse` option.
 */
import { Buffer } from 'node:buffer';
import type { JsonValue } from './json-value.js';

/**
 * A bounded cache of parsed JSON values by their exact source text, for large values that repeat
 * from record to record (the embedded Kafka Connect schema). Cached values are shared between
 * the texts that produced them, so they must be treated as read-only (as their types say).
 * When full, it starts over (cheap, and a stream rarely has more live schemas than entries).
 */
export class JsonValueCache {
  private readonly entries = new Map<string, JsonValue>();
  /** The last texts found, most recent first: checked in place, with no scan and no hashing. */
  private readonly recent: RecentValue[] = [];

  /** @param maxEntries - how many distinct texts to keep before starting over */
  constructor(readonly maxEntries = 256) {}

  /** The value parsed from exactly this text before, if still cached. */
  get(text: string): JsonValue | undefined {
    return this.entries.get(text);
  }

  /** Remembers the value parsed from a text. */
  set(text: string, value: JsonValue): void {
    if (this.entries.size >= this.maxEntries) {
      this.entries.clear();
      this.recent.length = 0;
    }
    this.entries.set(text, value);
    this.remember(text, value);
  }

  /** A recently used text that `source` holds at `start`, with its value; undefined when none does. */
  recentAt(source: string, start: number): RecentValue | undefined {
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const entry = recent[i]!;
      // A slice compared with === is much faster in V8 than startsWith for long texts.
      if (source.slice(start, start + entry.text.length) === entry.text) {
        if (i > 0) {
          recent.splice(i, 1);
          recent.unshift(entry);
        }
        return entry;
      }
    }
    return undefined;
  }

  /**
   * A recently used text whose UTF-8 encoding `source` holds at byte `start`, with its value;
   * undefined when none does. Compares bytes, so the caller need not decode them.
   */
  recentBytesAt(source: Uint8Array, start: number): RecentValue | undefined {
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) {
      const entry = recent[i]!;
      const bytes = (entry.bytes ??= utf8Of(entry.text));
      if (bytes !== null && start + bytes.length <= source.length && bytes.compare(source, start, start + bytes.length) === 0) {
        if (i > 0) {
          recent.splice(i, 1);
          recent.unshift(entry);
        }
        return entry;
      }
    }
    return undefined;
  }

  /** Marks a text as recently used. */
  remember(text: string, value: JsonValue): void {
    const recent = this.recent;
    recent.unshift({ text, value, bytes: undefined });
    if (recent.length > RECENT_ENTRIES) recent.pop();
  }
}

/** A recently used text, its value, and (once asked for) its UTF-8 bytes. */
export interface RecentValue {
  readonly text: string;
  readonly value: JsonValue;
  /** Undefined until first needed; null when the text has no UTF-8 form (a lone surrogate). */
  bytes: Buffer | null | undefined;
}

/**
 * The UTF-8 bytes of a text, or null when they would not decode back to it: a text given as a
 * string may hold a lone surrogate, which UTF-8 cannot carry (it would encode U+FFFD instead).
 */
function utf8Of(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.toString('utf8') === text ? bytes : null;
}

const RECENT_ENTRIES = 4;
