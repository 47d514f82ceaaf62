/**
 * Exact per-column statistics of the rows a Parquet file holds, computed from the values
 * themselves (not read back from the footer, whose string bounds the writer truncates), for the
 * lake formats' file statistics (Delta `stats`, Iceberg `lower_bounds`/`upper_bounds`).
 *
 * Rules from apache/parquet-format README "Statistics" and LogicalTypes.md "Sort order": NaN is
 * never a bound (a column of NaN and nulls has none); a zero minimum is written as -0 and a zero
 * maximum as +0, so readers that compare with -0 < +0 never skip a file holding a zero.
 * Truncating string bounds or rounding timestamp bounds (Delta) is the caller's business.
 */
import type { ColumnStats, LakeType, LakeValue } from './lake-type.js';
import { compareLakeValues } from './lake-value.js';

/** Accumulates one column's {@link ColumnStats} over values added one by one. */
export class ColumnStatsBuilder {
  private min: LakeValue | undefined;
  private max: LakeValue | undefined;
  private nulls = 0;
  private readonly bounded: boolean;
  private readonly float: boolean;

  constructor(private readonly type: LakeType) {
    this.bounded = type.kind !== 'list' && type.kind !== 'binary';
    this.float = type.kind === 'float32' || type.kind === 'float64';
  }

  /** Adds a value already checked against the column's type (`checkLakeValue`). */
  add(value: LakeValue): void {
    if (value === null) {
      this.nulls++;
      return;
    }
    if (!this.bounded || (this.float && Number.isNaN(value))) return;
    if (this.min === undefined) {
      this.min = value;
      this.max = value;
      return;
    }
    if (compareLakeValues(this.type, value, this.min) < 0) this.min = value;
    else if (compareLakeValues(this.type, value, this.max!) > 0) this.max = value;
  }

  /** The statistics of the values added so far. */
  stats(): ColumnStats {
    if (this.min === undefined) return { nullCount: this.nulls };
    let { min, max } = this;
    if (this.float) {
      if (min === 0) min = -0;
      if (max === 0) max = 0;
      // a float32 column's bounds as the file holds them
      if (this.type.kind === 'float32') {
        min = Math.fround(min as number);
        max = Math.fround(max as number);
      }
    }
    return { min, max, nullCount: this.nulls };
  }
}
