/**
 * The values `parseJson` (json.ts) returns: {@link JsonValue}, with numbers kept as their source
 * text ({@link JsonNumber}) and objects as read-only maps ({@link JsonObject}). A module of its
 * own, importing nothing, so the parser and the classes that build its values (`JsonMembers`,
 * `JsonValueCache`) depend on it and not on each other. `json.ts` re-exports it.
 */

/** A JSON number, kept as its source text (e.g. `-12.50e+3`); never rounded. */
export class JsonNumber {
  /** The number exactly as it appeared in the input. */
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /**
   * The value as a number when the literal is an integer of at most 15 digits (every such
   * integer is exact in a double); undefined for any other literal. `Number(text)` without the
   * general string-to-number conversion.
   */
  get safeInteger(): number | undefined {
    const t = this.text;
    const negative = t.charCodeAt(0) === 0x2d;
    const start = negative ? 1 : 0;
    if (t.length - start > 15 || t.length === start) return undefined;
    let n = 0;
    for (let i = start; i < t.length; i++) {
      const d = t.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return undefined;
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }

  /** True when the literal has no fraction and no exponent (`-12`, `0`). */
  get isInteger(): boolean {
    const t = this.text;
    let i = t.charCodeAt(0) === 0x2d ? 1 : 0;
    if (i >= t.length) return false;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    return true;
  }
}

/** A JSON object: member names to values, in input order. */
export type JsonObject = ReadonlyMap<string, JsonValue>;

/** Any JSON value, with numbers as {@link JsonNumber} and objects as {@link JsonObject}. */
export type JsonValue = null | boolean | string | JsonNumber | readonly JsonValue[] | JsonObject;
