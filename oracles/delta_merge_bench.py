"""The delta-rs side of `npm run bench` (BENCH_SUITE=delta), and the comparison of both results.

Usage:
  delta_merge_bench.py merge <table uri> <rows> <changes> <batch>
      Creates the table (CDF on) with <rows> rows, then applies the benchmark's change stream
      in batches of <batch> changes with DeltaTable.merge (when_matched_delete for deletes,
      when_matched_update_all, when_not_matched_insert_all), each batch reduced to the last
      change per key first, as MERGE requires. Prints JSON: seconds spent merging, peak RSS.
  delta_merge_bench.py compare <uri a> <uri b>
      Prints JSON: whether both tables hold the same rows, and their row counts.

The change stream is the one of src/bench/delta.ts (keep both in step): change seq (from 10)
touches key (g * 7919) mod 1200007 with g = seq - 5 when seq % 10 < 3 (30 % repeats) else seq;
keys above <rows> are inserts, every 20th other change (seq % 20 == 19) a delete, else an update
to balance (seq * 13) % 100000 and note 'change <seq>'.
"""
import json
import resource
import sys
import time

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder, write_deltalake

SPACE = 1_200_007
SCHEMA = pa.schema([("id", pa.int32()), ("balance", pa.int64()), ("note", pa.string())])


def change(seq, rows):
    g = seq - 5 if seq % 10 < 3 else seq
    key = (g * 7919) % SPACE
    op = "I" if key > rows else ("D" if seq % 20 == 19 else "U")
    return key, op, (seq * 13) % 100000, f"change {seq}"


def merge(uri, rows, changes, batch):
    ids = pa.array(range(1, rows + 1), pa.int32())
    initial = pa.table({"id": ids, "balance": pa.array(range(1, rows + 1), pa.int64()), "note": pa.array([f"row {i}" for i in range(1, rows + 1)])}, schema=SCHEMA)
    write_deltalake(uri, initial, configuration={"delta.enableChangeDataFeed": "true"})
    merging = 0.0
    for start in range(10, changes + 10, batch):
        started = time.perf_counter()
        last = {}
        for seq in range(start, min(start + batch, changes + 10)):
            key, op, balance, note = change(seq, rows)
            if op == "I" and key in last and last[key][0] == "D":
                op = "U"
            last[key] = (op, balance, note)
        keys = list(last.keys())
        source = pa.table(
            {
                "id": pa.array(keys, pa.int32()),
                "balance": pa.array([last[k][1] for k in keys], pa.int64()),
                "note": pa.array([last[k][2] for k in keys]),
                "op": pa.array([last[k][0] for k in keys]),
            }
        )
        dt = DeltaTable(uri)
        (
            dt.merge(source, "t.id = s.id", source_alias="s", target_alias="t")
            .when_matched_delete(predicate="s.op = 'D'")
            .when_matched_update(updates={"balance": "s.balance", "note": "s.note"}, predicate="s.op != 'D'")
            .when_not_matched_insert(updates={"id": "s.id", "balance": "s.balance", "note": "s.note"}, predicate="s.op != 'D'")
            .execute()
        )
        merging += time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({"seconds": merging, "peakRssBytes": peak_kib * 1024}, sys.stdout)


def rows_of(uri):
    # QueryBuilder (delta-rs' Rust reader) also reads tables with deletion vectors, which
    # to_pyarrow_table refuses.
    dt = DeltaTable(uri)
    reader = QueryBuilder().register("t", dt).execute("select id, balance, note from t order by id")
    return pa.table(reader.read_all())


def compare(a, b):
    ta, tb = rows_of(a), rows_of(b)
    json.dump({"equal": ta.equals(tb), "rowsA": ta.num_rows, "rowsB": tb.num_rows}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "merge":
        merge(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
