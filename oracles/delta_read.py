"""Reads a Delta table with delta-rs, independently of cdc-merge's writer, and prints JSON.

Usage: delta_read.py <table uri> [--version VERSION] [--cdf STARTING_VERSION] [--storage-options JSON]

With --version the table is read as of that version (time travel). Prints one JSON object:
version, protocol, metadata configuration, partition columns, the
snapshot's rows (sorted by every column's JSON text, so order never matters) and, with --cdf,
the change data feed from that version (each row with _change_type, _commit_version). Values
are made JSON-exact: decimals and 64-bit integers as strings, bytes as hex, dates and
timestamps as ISO-8601 text (timestamps with microseconds; UTC ones end in 'Z').
"""
import argparse
import base64
import datetime
import decimal
import json
import sys

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder


def plain(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > 2**53 else value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return value
    if isinstance(value, decimal.Decimal):
        # Fixed-point, as PostgreSQL prints it: str() gives '1E-10' for 0.0000000001.
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            return value.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def rows_of(table: pa.Table):
    rows = [plain(r) for r in table.to_pylist()]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    parser.add_argument("--version", type=int, default=None)
    parser.add_argument("--cdf", type=int, default=None)
    parser.add_argument("--storage-options", default=None)
    args = parser.parse_args()
    options = json.loads(args.storage_options) if args.storage_options else None
    dt = DeltaTable(args.uri, version=args.version, storage_options=options)
    protocol = dt.protocol()
    metadata = dt.metadata()
    snapshot = pa.table(QueryBuilder().register("t", dt).execute("select * from t").read_all())
    out = {
        "version": dt.version(),
        "protocol": {
            "minReaderVersion": protocol.min_reader_version,
            "minWriterVersion": protocol.min_writer_version,
            "readerFeatures": protocol.reader_features,
            "writerFeatures": protocol.writer_features,
        },
        "configuration": metadata.configuration,
        "partitionColumns": metadata.partition_columns,
        "schema": [{"name": f.name, "type": str(f.type)} for f in snapshot.schema],
        "rows": rows_of(snapshot),
        "files": len(dt.file_uris()),
    }
    if args.cdf is not None:
        cdf = pa.table(dt.load_cdf(starting_version=args.cdf).read_all())
        cdf = cdf.drop_columns(["_commit_timestamp"])
        out["cdf"] = rows_of(cdf)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
