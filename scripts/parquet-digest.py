"""Hashes what pyarrow (and, with --delta, delta-rs) reads of a Parquet file written by
scripts/bench-parquet-writers.mjs, for that script to compare with the rows it generated.

Usage: parquet-digest.py FILE [--delta]

Prints JSON: {"pyarrow": sha256, "deltars": sha256 or null, "physical": text}. The hash is over one
line per row, the columns tab-separated in file order, NULL as \\N: integers, decimals as their
unscaled integer, timestamps as microseconds since the epoch, booleans as 1/0, bytes as hex,
doubles as the hex of their 8 bytes (big-endian), strings as they are. The bench's columns are
fixed (id, qty, note, amount, changed_at, active, payload, score).
"""
import argparse
import decimal
import hashlib
import json
import os
import shutil
import struct
import tempfile

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SCALE = 10
DELTA_TYPES = {
    "id": "long", "qty": "integer", "note": "string", "amount": f"decimal(38,{SCALE})",
    "changed_at": "timestamp", "active": "boolean", "payload": "binary", "score": "double",
}


def column_text(column: pa.ChunkedArray):
    t = column.type
    if pa.types.is_timestamp(t):
        column = pc.cast(column, pa.int64())
    values = column.to_pylist()
    if pa.types.is_decimal(t):
        with decimal.localcontext() as ctx:
            ctx.prec = 100
            return [None if v is None else str(int(v.scaleb(t.scale))) for v in values]
    if pa.types.is_boolean(t):
        return [None if v is None else ("1" if v else "0") for v in values]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return [None if v is None else v.hex() for v in values]
    if pa.types.is_floating(t):
        return [None if v is None else struct.pack(">d", v).hex() for v in values]
    return [None if v is None else str(v) for v in values]


def table_digest(table: pa.Table) -> str:
    columns = [column_text(table.column(name)) for name in DELTA_TYPES]
    h = hashlib.sha256()
    for row in zip(*columns):
        h.update(("\t".join("\\N" if v is None else v for v in row) + "\n").encode())
    return h.hexdigest()


def physical(path: str) -> str:
    f = pq.ParquetFile(path)
    meta = f.metadata
    chunk = meta.row_group(0)
    parts = []
    for i in range(meta.num_columns):
        c = chunk.column(i)
        field = f.schema.column(i)
        s = c.statistics
        stats = "stats" if s is not None and s.has_min_max else ("nulls only" if s is not None else "no stats")
        parts.append(f"{field.name} {field.physical_type}/{field.logical_type} {c.compression} {','.join(c.encodings)} {stats}")
    ids = [f.schema_arrow.field(i).metadata.get(b"PARQUET:field_id", b"-").decode() for i in range(len(f.schema_arrow))]
    return f"{meta.num_row_groups} row groups; field ids {','.join(ids)}; created by {meta.created_by}; " + "; ".join(parts)


def delta_digest(path: str) -> str:
    from deltalake import DeltaTable

    root = tempfile.mkdtemp(prefix="bench-delta-")
    try:
        os.makedirs(os.path.join(root, "_delta_log"))
        shutil.copy(path, os.path.join(root, "part-0.parquet"))
        schema = {"type": "struct", "fields": [
            {"name": n, "type": t, "nullable": n != "id", "metadata": {}} for n, t in DELTA_TYPES.items()]}
        actions = [
            {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
            {"metaData": {"id": "bench", "format": {"provider": "parquet", "options": {}},
                          "schemaString": json.dumps(schema), "partitionColumns": [], "configuration": {},
                          "createdTime": 0}},
            {"add": {"path": "part-0.parquet", "size": os.path.getsize(path), "partitionValues": {},
                     "modificationTime": 0, "dataChange": True}},
        ]
        with open(os.path.join(root, "_delta_log", "00000000000000000000.json"), "w") as log:
            log.write("\n".join(json.dumps(a) for a in actions) + "\n")
        return table_digest(DeltaTable(root).to_pyarrow_table())
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--delta", action="store_true")
    args = parser.parse_args()
    out = {
        "pyarrow": table_digest(pq.read_table(args.file)),
        "deltars": delta_digest(args.file) if args.delta else None,
        "physical": physical(args.file),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
