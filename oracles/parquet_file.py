"""Reads or writes a Parquet file with pyarrow (and delta-rs), independently of cdc-merge's codec.

Usage:
  parquet_file.py read FILE     prints JSON {"schema": [...], "rows": [...], "columns": [...]}
  parquet_file.py delta FILE    reads FILE with delta-rs, as the one data file of a Delta table
                                made for it (schema from the file's, timestampNtz when needed);
                                prints JSON {"rows": [...]} as read does
  parquet_file.py write DIR     writes DIR/pyarrow.parquet (pyarrow: DataPage V1, zstd, dictionary
                                pages) and a delta-rs table DIR/delta (its own writer's defaults) of
                                the table below; prints JSON {"pyarrow": path, "deltars": [paths]}

read: "schema" has each top-level field's name, Arrow type as pyarrow prints it and field id (or
null); "columns" each leaf's physical type, logical type, compression and whether it has min/max
statistics, with the statistics as exact text. "rows" are lists in file order, values JSON-exact:
integers, dates (days since 1970-01-01) and timestamps (microseconds since the epoch) as decimal
strings, decimals as their unscaled integer string, floats as the hex of their 8 IEEE bytes
(big-endian), bytes as hex, lists as lists.

write: the table has one column of each type the lake sinks use, with edge values; the test that
calls it holds the same values.
"""
import datetime
import decimal
import json
import os
import shutil
import struct
import sys
import tempfile

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def column_values(column, arrow_type):
    if pa.types.is_timestamp(arrow_type):
        column = pc.cast(column, pa.int64())
    elif pa.types.is_date32(arrow_type):
        column = pc.cast(column, pa.int32())
    elif pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return [None if v is None else plain_list(v, arrow_type.value_type) for v in column.to_pylist()]
    return [plain(v, arrow_type) for v in column.to_pylist()]


def plain_list(values, value_type):
    return [plain_element(v, value_type) for v in values]


def plain_element(value, arrow_type):
    if value is None:
        return None
    if pa.types.is_timestamp(arrow_type):
        epoch = datetime.datetime(1970, 1, 1, tzinfo=value.tzinfo)
        delta = value - epoch
        return str((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if pa.types.is_date32(arrow_type):
        return str((value - datetime.date(1970, 1, 1)).days)
    return plain(value, arrow_type)


def plain(value, arrow_type):
    if value is None:
        return None
    if pa.types.is_decimal(arrow_type):
        with decimal.localcontext() as ctx:
            ctx.prec = 100
            return str(int(value.scaleb(arrow_type.scale)))
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return struct.pack(">d", value).hex()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def stat_text(value):
    if isinstance(value, float):
        return struct.pack(">d", value).hex()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value) if not isinstance(value, bool) else value


def read(path):
    f = pq.ParquetFile(path)
    table = f.read()
    schema = []
    for field in table.schema:
        meta = field.metadata or {}
        fid = meta.get(b"PARQUET:field_id")
        schema.append({"name": field.name, "type": str(field.type), "fieldId": int(fid) if fid else None,
                       "nullable": field.nullable})
    columns = []
    for i in range(f.metadata.num_columns):
        leaf = f.schema.column(i)
        chunk = f.metadata.row_group(0).column(i) if f.metadata.num_row_groups else None
        stats = chunk.statistics if chunk is not None else None
        columns.append({
            "path": leaf.path,
            "physical": leaf.physical_type,
            "logical": str(leaf.logical_type),
            "compression": chunk.compression if chunk is not None else None,
            "min": stat_text(stats.min) if stats is not None and stats.has_min_max else None,
            "max": stat_text(stats.max) if stats is not None and stats.has_min_max else None,
            "nullCount": stats.null_count if stats is not None and stats.has_null_count else None,
        })
    values = [column_values(table.column(i), table.schema.field(i).type) for i in range(table.num_columns)]
    rows = [list(r) for r in zip(*values)] if values else []
    json.dump({"schema": schema, "columns": columns, "rows": rows, "numRows": table.num_rows}, sys.stdout)


def read_delta(path):
    from deltalake import DeltaTable, Schema

    arrow_schema = pq.read_schema(path).remove_metadata()
    arrow_schema = pa.schema([f.remove_metadata() for f in arrow_schema])
    ntz = any(pa.types.is_timestamp(t) and t.tz is None for t in walk_types(arrow_schema))
    protocol = {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["timestampNtz"],
                "writerFeatures": ["timestampNtz"]} if ntz else {"minReaderVersion": 1, "minWriterVersion": 2}
    root = tempfile.mkdtemp(prefix="parquet-file-delta-")
    try:
        os.makedirs(os.path.join(root, "_delta_log"))
        shutil.copy(path, os.path.join(root, "part-0.parquet"))
        actions = [
            {"protocol": protocol},
            {"metaData": {"id": "oracle", "format": {"provider": "parquet", "options": {}},
                          "schemaString": Schema.from_arrow(arrow_schema).to_json(), "partitionColumns": [],
                          "configuration": {}, "createdTime": 0}},
            {"add": {"path": "part-0.parquet", "size": os.path.getsize(path), "partitionValues": {},
                     "modificationTime": 0, "dataChange": True}},
        ]
        with open(os.path.join(root, "_delta_log", "00000000000000000000.json"), "w") as log:
            log.write("\n".join(json.dumps(a) for a in actions) + "\n")
        table = DeltaTable(root).to_pyarrow_table()
        values = [column_values(table.column(i), table.schema.field(i).type) for i in range(table.num_columns)]
        rows = [list(r) for r in zip(*values)] if values else []
        json.dump({"schema": [{"name": f.name, "type": str(f.type)} for f in table.schema], "rows": rows}, sys.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def walk_types(schema):
    stack = [f.type for f in schema]
    while stack:
        t = stack.pop()
        yield t
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            stack.append(t.value_type)


def sample_table():
    utc = datetime.timezone.utc
    d = decimal.Decimal
    return pa.table({
        "id": pa.array([-(2**63), 2**63 - 1, 0], pa.int64()),
        "small": pa.array([-32768, None, 32767], pa.int16()),
        "n": pa.array([-(2**31), 7, None], pa.int32()),
        "f64": pa.array([-0.0, None, 1.5], pa.float64()),
        "flag": pa.array([True, False, None], pa.bool_()),
        # repeated values: pyarrow writes them through a dictionary page
        "text": pa.array(["same", "same", "\u00e9\U0001F600"], pa.string()),
        "bytes": pa.array([b"\x00\x01", None, b""], pa.binary()),
        "day": pa.array([datetime.date(1, 1, 1), datetime.date(1970, 1, 1), None], pa.date32()),
        "at": pa.array([datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc), None,
                        datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc)], pa.timestamp("us", tz="UTC")),
        "local": pa.array([datetime.datetime(2024, 2, 29, 12, 0, 0, 1), None, datetime.datetime(1900, 1, 1)], pa.timestamp("us")),
        "amount": pa.array([d("-9999999999999999999999999999.9999999999"), d("0.0000000001"), None], pa.decimal128(38, 10)),
        "price": pa.array([d("-9999999.99"), d("0.01"), None], pa.decimal128(9, 2)),
        "tags": pa.array([["a", None], [], None], pa.list_(pa.string())),
    })


def write(directory):
    table = sample_table()
    path = os.path.join(directory, "pyarrow.parquet")
    pq.write_table(table, path, compression="zstd", data_page_version="1.0", use_dictionary=True)
    from deltalake import DeltaTable, write_deltalake
    write_deltalake(os.path.join(directory, "delta"), table)
    files = DeltaTable(os.path.join(directory, "delta")).file_uris()
    json.dump({"pyarrow": path, "deltars": [f.removeprefix("file://") for f in files]}, sys.stdout)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "delta", "write"):
        sys.exit(__doc__)
    if sys.argv[1] == "read":
        read(sys.argv[2])
    elif sys.argv[1] == "delta":
        read_delta(sys.argv[2])
    else:
        write(sys.argv[2])


if __name__ == "__main__":
    main()
