/**
 * The objects of the lossless JSON reader (`json.ts`): names and values in input order behind
 * the `ReadonlyMap` interface that the decoder reads them through.
 */
import type { JsonValue } from './json-value.js';

/**
 * Members past which a {@link JsonMembers} also keeps an index by name. Below it a scan of the
 * names is faster than hashing them, and Debezium objects (envelope, source block, most rows)
 * have fewer members.
 */
const INDEX_FROM_MEMBERS = 16;

/**
 * The objects (`JsonObject`) the reader builds: one array of names and values in turn, in input
 * order, with an index by name only for large objects. Cheaper to build than a `Map` (one
 * allocation, no hashing) for the small objects events are made of, and read through the same
 * `ReadonlyMap` interface.
 */
export class JsonMembers implements ReadonlyMap<string, JsonValue> {
  /** `[name0, value0, name1, value1, …]`. */
  private readonly slots: (string | JsonValue)[] = [];
  private index: Map<string, number> | undefined;

  get size(): number {
    return this.slots.length >> 1;
  }

  get(name: string): JsonValue | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.slots[i + 1];
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** Adds a member; a repeated name keeps its first place and takes the new value (as `JSON.parse`). */
  add(name: string, value: JsonValue): void {
    const i = this.indexOf(name);
    if (i >= 0) {
      this.slots[i + 1] = value;
      return;
    }
    const slots = this.slots;
    slots.push(name, value);
    if (this.index !== undefined) this.index.set(name, slots.length - 2);
    else if (slots.length > 2 * INDEX_FROM_MEMBERS) {
      this.index = new Map();
      for (let j = 0; j < slots.length; j += 2) this.index.set(slots[j] as string, j);
    }
  }

  forEach(callback: (value: JsonValue, key: string, map: ReadonlyMap<string, JsonValue>) => void, thisArg?: unknown): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) callback.call(thisArg, slots[i + 1] as JsonValue, slots[i] as string, this);
  }

  keys(): MapIterator<string> {
    return this.list((i) => this.slots[i] as string);
  }

  values(): MapIterator<JsonValue> {
    return this.list((i) => this.slots[i + 1] as JsonValue);
  }

  entries(): MapIterator<[string, JsonValue]> {
    return this.list((i): [string, JsonValue] => [this.slots[i] as string, this.slots[i + 1] as JsonValue]);
  }

  [Symbol.iterator](): MapIterator<[string, JsonValue]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'JsonObject';
  }

  /** An iterator over `item(i)` for each member's slot index `i`. */
  private list<T>(item: (i: number) => T): MapIterator<T> {
    const out = new Array<T>(this.slots.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = item(2 * i);
    return out[Symbol.iterator]();
  }

  private indexOf(name: string): number {
    if (this.index !== undefined) return this.index.get(name) ?? -1;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] === name) return i;
    return -1;
  }
}
