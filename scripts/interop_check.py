#!/usr/bin/env python3
"""Opens every Delta table of a c360 lake with two independent readers and prints row counts.

Reader 1 is the `deltalake` package (delta-rs's Python binding, its own log replay); reader 2 is
DuckDB querying the table's pyarrow dataset. Output: one JSON object per table,
{"table": "bronze.customers", "deltalake_rows": N, "duckdb_rows": N, "columns": [...]}.
Exit code 1 if the two readers disagree.

Usage: interop_check.py LAKE_DIR
"""
import json
import os
import sys

import duckdb
from deltalake import DeltaTable


def main(lake: str) -> int:
    status = 0
    for layer in ("bronze", "silver", "gold", "_c360"):
        layer_dir = os.path.join(lake, layer)
        if not os.path.isdir(layer_dir):
            continue
        for name in sorted(os.listdir(layer_dir)):
            path = os.path.join(layer_dir, name)
            if not os.path.isdir(os.path.join(path, "_delta_log")):
                continue
            table = DeltaTable(path)
            dataset = table.to_pyarrow_dataset()
            delta_rows = dataset.count_rows()
            con = duckdb.connect()
            con.register("t", dataset)
            duck_rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
            con.close()
            row = {
                "table": f"{layer}.{name}",
                "version": table.version(),
                "deltalake_rows": delta_rows,
                "duckdb_rows": duck_rows,
                "columns": [f.name for f in dataset.schema],
            }
            print(json.dumps(row))
            if delta_rows != duck_rows:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
