"""boto3 peer runner of the benchmark suite (bench/suite.lua).

Measures one workload for one boto3 layer and prints one JSON line on stdout:
  w1              decode a 1 MB Query page through the whole client (canned send)
  w2              encode 1,000 items into 40 BatchWriteItem requests (canned send)
  w3get, w3put    1,000 sequential GetItem / PutItem to a canned HTTP responder
  w4              write, scan, parallel scan and get 20,000 items on DynamoDB Local
  w5iter, w5collect  memory of a full Scan of those 20,000 items, dropped / kept
docs/performance.md defines the workloads; timing: wall is time.perf_counter,
CPU is time.process_time (the whole process, all threads), in seconds.

Layers: `client` is boto3.client('dynamodb') with wrapped AttributeValues
(B/BS as bytes); `resource` is boto3.resource('dynamodb') with native values
(TypeDeserializer output: Decimal, set, Binary).

Run with Debian's Python and its python3-boto3 (1.26):
  /usr/bin/python3 bench/peers/boto3_bench.py LAYER WORKLOAD DATADIR [ENDPOINT [TABLE]]
TABLE defaults to "bench". Environment: BENCH_REPS overrides the repetitions
of w1 and w2 (quick runs); BENCH_KEEP_TABLE=1 makes w4 keep its table, loaded
for w5. On any error a message goes to stderr and the exit status is 1 (2 for
a bad command line), with no result line.
"""
import argparse
import base64
import concurrent.futures
import decimal
import functools
import gc
import json
import os
import sys
import time
import zlib

import boto3
from boto3.dynamodb import types as dynamodb_types
from botocore.awsrequest import AWSResponse

# Where w1 and w2 "send" without an ENDPOINT: the canned handler answers first,
# and if it ever did not, the discard port refuses at once instead of hanging.
NO_NETWORK = "http://127.0.0.1:9"
W4_ITEMS = 20000


class BenchError(Exception):
    pass


def check(ok, msg):
    # Not `assert`: python -O would drop the checks and print wrong results.
    if not ok:
        raise BenchError(msg)


def reps(default):
    return int(os.environ.get("BENCH_REPS") or default)


def repeat(fn, n):
    for _ in range(n):
        fn()


def timed(fn):
    """Wall and CPU seconds fn() took (CPU: whole process, all threads), its value."""
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - w0, time.process_time() - c0, value


def vm_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError("no %s in /proc/self/status" % field)


def wrapped(av):
    """A JSON AttributeValue in the client's input form: base64 B/BS as bytes."""
    (kind, value), = av.items()
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if kind == "M":
        return {"M": {k: wrapped(v) for k, v in value.items()}}
    if kind == "L":
        return {"L": [wrapped(v) for v in value]}
    return av


def load_page(datadir):
    """The page's bytes and its items in the client's input form."""
    with open(os.path.join(datadir, "page.json"), "rb") as f:
        raw = f.read()
    items = [{k: wrapped(v) for k, v in it.items()} for it in json.loads(raw)["Items"]]
    check(len(items) == 1000, "page.json has %d items, not 1000" % len(items))
    return raw, items


# ---- the two layers, made to answer the same calls -------------------------

def session():
    return boto3.session.Session(aws_access_key_id="AKIDBENCH",
                                 aws_secret_access_key="bench", region_name="us-east-1")


class ClientTable:
    """A table's client calls with TableName bound, called like a resource Table's."""

    def __init__(self, client, name):
        self.name = name
        for op in ("query", "get_item", "put_item", "scan"):
            setattr(self, op, functools.partial(getattr(client, op), TableName=name))


class ClientLayer:
    """boto3.client: wrapped AttributeValues in and out."""

    def __init__(self, endpoint):
        self.client = session().client("dynamodb", endpoint_url=endpoint)
        self.batch_write_item = self.client.batch_write_item

    def table(self, name):
        return ClientTable(self.client, name)

    def value(self, s):
        return {"S": s}

    def form(self, item):
        return item

    def write_all(self, table, items):
        """Writes items 25 per request, in order; returns how many were sent."""
        sent = 0
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": it}} for it in items[start:start + 25]]
            sent += len(batch)
            request = {table.name: batch}
            while request:  # re-send what DynamoDB left unprocessed
                response = self.client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems")
        return sent


def read_numbers_with_trailing_zeros():
    """Lets the resource layer read back numbers such as 1E+100.

    DynamoDB and DynamoDB Local return them in full ("1000...0", 101 digits),
    and boto3's deserializer fails any number of more than 38 digits with
    decimal.Rounded, even when only zeros go (boto/boto3#2500, open). The page
    holds such numbers, so without this the resource layer could not read its
    items back from DynamoDB (w4, w5; w3get when pointed at DynamoDB Local).
    Only the Rounded trap is dropped: Inexact still fails a number that would
    lose a digit, and a number costs what it costs in boto3's own method.
    """
    context = dynamodb_types.DYNAMODB_CONTEXT.copy()
    context.traps[decimal.Rounded] = False
    dynamodb_types.TypeDeserializer._deserialize_n = lambda self, v: context.create_decimal(v)


class ResourceLayer:
    """boto3.resource: native values in and out."""

    def __init__(self, endpoint):
        read_numbers_with_trailing_zeros()
        self.db = session().resource("dynamodb", endpoint_url=endpoint)
        self.client = self.db.meta.client  # for setup, teardown and event hooks
        self.batch_write_item = self.db.batch_write_item
        self.deserializer = dynamodb_types.TypeDeserializer()

    def table(self, name):
        return self.db.Table(name)

    def value(self, s):
        return s

    def form(self, item):
        return {k: self.deserializer.deserialize(v) for k, v in item.items()}

    def write_all(self, table, items):
        """Writes items 25 per request, in order; returns how many were sent."""
        sent = 0
        with table.batch_writer() as writer:  # flushes every 25, re-sends unprocessed
            for it in items:
                writer.put_item(Item=it)
                sent += 1
        return sent


LAYERS = {"client": ClientLayer, "resource": ResourceLayer}


def key(layer, pk, sk):
    return {"pk": layer.value(pk), "sk": layer.value(sk)}


def count_scan(table, kept=None, **kwargs):
    """Counts the items of a full Scan, page by page following LastEvaluatedKey;
    appends them to kept if given, else keeps none."""
    count = 0
    while True:
        page = table.scan(**kwargs)
        count += len(page["Items"])
        if kept is not None:
            kept.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def can_send(layer, operation, body):
    """Answers every `operation` call in-process with a 200 carrying body."""
    headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "canned",
               "x-amz-crc32": str(zlib.crc32(body) & 0xFFFFFFFF),  # botocore verifies it
               "content-length": str(len(body))}

    class Raw:  # AWSResponse.content reads nothing but raw.stream()
        def stream(self):
            yield body

    def send(request, **_):
        # The body's length: the request must have been serialized in full.
        check(request.body is not None and len(request.body) > 0, "empty request body")
        return AWSResponse(request.url, 200, headers, Raw())

    layer.client.meta.events.register("before-send.dynamodb." + operation, send)


# ---- workloads: each returns the result line's object -----------------------

def w1(layer, a):
    raw, _ = load_page(a.datadir)
    can_send(layer, "Query", raw)
    table, pk, n = layer.table("bench"), layer.value("CUSTOMER#000001"), reps(20)

    def call():
        items = table.query(KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues={":pk": pk})["Items"]
        check(len(items) == 1000, "Query decoded %d items, not 1000" % len(items))

    repeat(call, 3)
    wall, cpu, _ = timed(lambda: repeat(call, n))
    return {"wall": wall / n, "cpu": cpu / n, "n": 1000, "reps": n}


def w2(layer, a):
    items = [layer.form(it) for it in load_page(a.datadir)[1]]
    can_send(layer, "BatchWriteItem", b'{"UnprocessedItems":{}}')
    requests = [{"bench": [{"PutRequest": {"Item": it}} for it in items[25 * k:25 * k + 25]]}
                for k in range(40)]
    n = reps(10)

    def repetition():
        for request in requests:
            check(not layer.batch_write_item(RequestItems=request)["UnprocessedItems"],
                  "canned BatchWriteItem came back with unprocessed items")

    repeat(repetition, 2)
    wall, cpu, _ = timed(lambda: repeat(repetition, n))
    return {"wall": wall / n, "cpu": cpu / n, "n": 1000, "reps": n}


W4_ATTRIBUTES = ("status", "created_at", "subtotal", "gift", "coupon", "tags", "shipping")


def w3(layer, a, op):
    first = load_page(a.datadir)[1][0]
    table = layer.table("bench")
    if op == "get":
        item_key = key(layer, first["pk"]["S"], first["sk"]["S"])

        def call():
            check("Item" in table.get_item(Key=item_key), "GetItem found no item")
    else:
        # page item 1's key with the w4 attributes (~330 bytes; see bench/runner.lua)
        full = layer.form(first)
        item = {name: full[name] for name in ("pk", "sk") + W4_ATTRIBUTES}

        def call():
            table.put_item(Item=item)

    repeat(call, 50)  # also opens the keep-alive connection
    wall, cpu, _ = timed(lambda: repeat(call, 1000))
    return {"wall": wall / 1000, "cpu": cpu / 1000, "n": 1000}


def w4(layer, a):
    page = [layer.form(it) for it in load_page(a.datadir)[1]]
    items = []
    for i in range(W4_ITEMS):
        # the w4 attributes (~330 bytes; see bench/runner.lua), shallow: the writers only read them
        item = {name: page[i % 1000][name] for name in W4_ATTRIBUTES}
        item.update(key(layer, "ITEM#%05d" % i, "A"))
        items.append(item)
    layer.client.create_table(
        TableName=a.table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    try:
        layer.client.get_waiter("table_exists").wait(TableName=a.table)
        return w4_phases(layer, a, items)
    finally:  # after a failure too, or the next run's CreateTable would fail
        if os.environ.get("BENCH_KEEP_TABLE") != "1":
            layer.client.delete_table(TableName=a.table)


def w4_phases(layer, a, items):
    result = {}

    def phase(name, n, fn):
        wall, cpu, count = timed(fn)
        check(count == n, "%s: counted %s, expected %d" % (name, count, n))
        result[name] = {"wall": wall, "cpu": cpu, "n": n}

    table = layer.table(a.table)
    phase("write", W4_ITEMS, lambda: layer.write_all(table, items))
    phase("scan", W4_ITEMS, lambda: count_scan(table))

    # One layer (own session, client and connection pool) per thread, made untimed.
    tables = [type(layer)(a.endpoint).table(a.table) for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        def pscan():
            segments = [pool.submit(count_scan, tables[s], None, Segment=s, TotalSegments=4)
                        for s in range(4)]
            return sum(f.result() for f in segments)
        phase("pscan", W4_ITEMS, pscan)

    keys = [key(layer, "ITEM#%05d" % i, "A") for i in range(0, W4_ITEMS, 10)]
    phase("get", len(keys), lambda: sum("Item" in table.get_item(Key=k) for k in keys))
    return result


def w5(layer, a, keep):
    # No page.json here: reading it would raise VmHWM before the scan.
    table = layer.table(a.table)
    table.scan(Limit=1)
    gc.collect()
    base = vm_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # VmHWM from here: the scan's own peak
        f.write("5")
    kept = [] if keep else None  # held to the end, so VmHWM sees them all
    wall, cpu, count = timed(lambda: count_scan(table, kept))
    peak = vm_kb("VmHWM")
    check(count == W4_ITEMS, "Scan counted %d items, not %d" % (count, W4_ITEMS))
    return {"base_kb": base, "peak_kb": peak, "growth_kb": max(0, peak - base),
            "n": W4_ITEMS, "wall": wall, "cpu": cpu}


WORKLOADS = {
    "w1": w1, "w2": w2,
    "w3get": functools.partial(w3, op="get"), "w3put": functools.partial(w3, op="put"),
    "w4": w4,
    "w5iter": functools.partial(w5, keep=False), "w5collect": functools.partial(w5, keep=True),
}


def main():
    parser = argparse.ArgumentParser(description="boto3 peer runner of the benchmark suite")
    parser.add_argument("layer", choices=LAYERS)
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("datadir")
    parser.add_argument("endpoint", nargs="?")
    parser.add_argument("table", nargs="?", default="bench")
    a = parser.parse_args()  # a bad command line: usage on stderr, exit 2
    if a.workload not in ("w1", "w2") and not a.endpoint:
        parser.error("%s needs ENDPOINT" % a.workload)
    a.endpoint = a.endpoint or NO_NETWORK
    try:
        result = WORKLOADS[a.workload](LAYERS[a.layer](a.endpoint), a)
    except Exception as e:  # any failure: a message and no result line
        print("boto3_bench.py %s %s: %s: %s" % (a.layer, a.workload, type(e).__name__, e),
              file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
