#!/usr/bin/env python3
"""Helpers for bench/run.sh (standard library only).

  helpers.py deep-cursor BASE SEQ            follow next_cursor (limit=1000) to the page after SEQ
  helpers.py verify BASE ARGS_FILE CSV       every endpoint of ARGS_FILE answers 200 with the expected ids
  helpers.py export-rss BASE PATH PID OUT.json [--repeats N]
                                             full CSV export with curl, VmRSS sampled every 50 ms
  helpers.py report OUT.md WORKDIR           result tables and ratios from the JSON files in WORKDIR
  helpers.py verify-html BASE ARGS_FILE CSV FACTS.json LABEL
                                             every page of ARGS_FILE answers 200 with HTML whose item
                                             table holds the expected 100 rows; page facts to FACTS.json
  helpers.py html-report OUT.md WORKDIR      the HTML pages' ratios (STEPS=html) from WORKDIR

Loopback only: BASE must be http://127.0.0.1:PORT.
"""
import base64
import csv
import hashlib
import html.parser
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def check_loopback(base):
    host = urllib.parse.urlsplit(base).hostname or ""
    if host != "127.0.0.1" and host != "localhost":
        sys.exit(f"refusing non-loopback target {base!r}")


def get(base, path, timeout=60):
    with urllib.request.urlopen(base + path, timeout=timeout) as r:
        return r.status, r.read()


# ------------------------------------------------------------------ cursor
def computed_cursor(seq):
    """What src/api/pagination.rs issues for the default order after `seq` (no filters)."""
    f = hashlib.sha256(b"registries/bench/items" + b"\x00").digest()[:8].hex()
    doc = json.dumps({"v": 1, "after": [], "seq": seq, "f": f}, separators=(",", ":"))
    return base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def deep_cursor(base, seq):
    check_loopback(base)
    path = "/api/v1/registries/bench/items?limit=1000"
    cursor = None
    for _ in range(seq // 1000):
        _, body = get(base, path + ("&cursor=" + cursor if cursor else ""))
        cursor = json.loads(body)["next_cursor"]
        if not cursor:
            sys.exit("next_cursor ran out before seq %d" % seq)
    _, body = get(base, "/api/v1/registries/bench/items?limit=100&cursor=" + cursor)
    first = json.loads(body)["items"][0]["id"]
    if first != str(seq + 1):
        sys.exit(f"page after the cursor starts at id {first}, expected {seq + 1}")
    mine = computed_cursor(seq)
    if mine != cursor:
        print(f"note: server cursor {cursor} differs from computed {mine}", file=sys.stderr)
    print(cursor)


# ------------------------------------------------------------------ verify
def expected_from_csv(csv_path):
    first_filtered = None
    road_rows = 0
    first_road = None
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["registry"] == "road-works":
                road_rows += 1
                first_road = first_road or row["id"]
                if first_filtered is None and int(row["year"]) > 2000:
                    first_filtered = row["id"]
    return first_filtered, first_road, road_rows


def verify(base, args_file, csv_path):
    check_loopback(base)
    first_filtered, first_road, road_rows = expected_from_csv(csv_path)
    expect = {"a_list": "1", "b_filtered": first_filtered, "c_item": "1", "e_deep_keyset": "150001"}
    ok = True
    with open(args_file) as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    for ln in lines:
        if ln.startswith("--endpoint="):
            name, path = ln[len("--endpoint="):].split("=", 1)
            status, body = get(base, path.replace("{id}", "1"))
            doc = json.loads(body)
            got = doc["id"] if name == "c_item" else doc["items"][0]["id"]
            if name == "b_filtered":
                bad = [i for i in doc["items"]
                       if i["properties"]["registry"] != "road-works" or i["properties"]["year"] <= 2000]
                if bad or len(doc["items"]) != 100:
                    ok = False
                    print(f"  {name}: {len(doc['items'])} items, {len(bad)} not matching the filter")
            good = status == 200 and got == expect.get(name)
            ok &= good
            print(f"  {name}: HTTP {status}, first id {got} (expected {expect.get(name)}), "
                  f"{len(body)} bytes {'OK' if good else 'WRONG'}")
        elif ln.startswith("--csv="):
            name, path = ln[len("--csv="):].split("=", 1)
            status, body = get(base, path, timeout=120)
            rows = list(csv.reader(body.decode("utf-8").splitlines()))
            good = (status == 200 and rows[0][0] == "id" and rows[1][0] == first_road
                    and len(rows) - 1 == road_rows)
            ok &= good
            print(f"  {name}: HTTP {status}, {len(rows) - 1} rows (expected {road_rows}), first id "
                  f"{rows[1][0]} (expected {first_road}), header {','.join(rows[0])} "
                  f"{'OK' if good else 'WRONG'}")
    if not ok:
        sys.exit("verification failed")


# ------------------------------------------------------------------ export + RSS
def vmrss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def export_rss(base, path, pid, out, repeats=2):
    check_loopback(base)
    pid = int(pid)
    runs = []
    tmpdir = tempfile.mkdtemp(prefix="opengov-export-")
    try:
        fn = os.path.join(tmpdir, "export.csv")
        for _ in range(repeats):
            time.sleep(2)
            idle = vmrss_kb(pid)
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as fh:
                    fh.write("5")
                hwm_ok = True
            except OSError:
                hwm_ok = False
            samples = []
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append(vmrss_kb(pid))
                    time.sleep(0.05)

            th = threading.Thread(target=sample, daemon=True)
            th.start()
            p = subprocess.run(["curl", "-sS", "--max-time", "600", "-o", fn, "-w",
                                "%{http_code} %{size_download} %{time_starttransfer} %{time_total}",
                                base + path], capture_output=True, text=True)
            stop.set()
            th.join()
            code, size, ttfb, total = p.stdout.split()
            hwm = vmrss_kb(pid, "VmHWM") if hwm_ok else 0
            rows, first_id, last_id, ids_ok, expect = 0, None, None, True, 1
            with open(fn, newline="", encoding="utf-8") as fh:
                rd = csv.reader(fh)
                header = next(rd)
                for row in rd:
                    rows += 1
                    if first_id is None:
                        first_id = row[0]
                    last_id = row[0]
                    if ids_ok and row[0] != str(expect):
                        ids_ok = False
                    expect += 1
            peak = max(samples + [hwm // 1 if hwm else 0])
            runs.append({
                "status": int(code), "bytes": int(size), "ttfb_s": float(ttfb), "total_s": float(total),
                "mb_per_s": round(int(size) / 1e6 / float(total), 1),
                "rows": rows, "columns": len(header), "first_id": first_id, "last_id": last_id,
                "ids_sequential": ids_ok,
                "idle_rss_mb": round(idle / 1024, 1),
                "peak_rss_mb_sampled": round(max(samples) / 1024, 1) if samples else None,
                "peak_rss_mb_hwm": round(hwm / 1024, 1) if hwm else None,
                "samples": len(samples),
                "peak_minus_idle_mb": round((peak - idle) / 1024, 1),
            })
            print(f"  export: HTTP {code}, {size} bytes, {rows} rows ({first_id}..{last_id}, "
                  f"sequential {ids_ok}) in {float(total):.2f} s; RSS idle {idle / 1024:.1f} MB, "
                  f"peak {peak / 1024:.1f} MB (+{(peak - idle) / 1024:.1f} MB)", file=sys.stderr)
    finally:
        for f in os.listdir(tmpdir):
            os.remove(os.path.join(tmpdir, f))
        os.rmdir(tmpdir)
    with open(out, "w") as fh:
        json.dump({"path": path, "runs": runs}, fh, indent=2)


# ------------------------------------------------------------------ report
def load(workdir, name):
    fn = os.path.join(workdir, name)
    if not os.path.exists(fn):
        return None
    with open(fn) as fh:
        return json.load(fh)


def fmt(x, nd=0):
    return "n/a" if x is None else f"{x:,.{nd}f}"


def ratio(a, b):
    return None if not a or not b else a / b


TARGETS = {"a_list": 25, "b_filtered": 25, "c_item": 20, "e_deep_keyset": 25, "d_csv_road_works": 20}
LABELS = {"a_list": "first page, 100 items", "b_filtered": "filtered page (road-works, year > 2000)",
          "c_item": "single item (random id)", "e_deep_keyset": "deep page after 150,000 (keyset)",
          "e_deep_offset": "deep page at OFFSET 150,000", "d_csv_road_works": "CSV export, road-works (~40k rows)"}


def endpoint_table(runs):
    out = ["| server | endpoint | req/s (median) | min-max | p50 ms | p99 ms | errors | bytes/resp | server CPU % | wrk CPU % | other CPU % |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in runs:
        for e in r["endpoints"]:
            err = str(e["errors"]) + ("" if e["probe_status"] == 200 else f" (probe {e['probe_status']})")
            out.append(f"| {label} | {e['endpoint']} | {e['rps']:,.0f} | {e['rps_min']:,.0f}-{e['rps_max']:,.0f} | "
                       f"{e['p50_ms']:.2f} | {e['p99_ms']:.2f} | {err} | {e['bytes_per_resp']:,} | "
                       f"{e['server_cpu_pct']} | {e['wrk_cpu_pct']} | {e['other_cpu_pct']} |")
    out += ["", "| server | CSV export | HTTP | rows | bytes | time s (median of repeats) | TTFB s | MB/s | rows/s | RSS before MB | peak RSS MB |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in runs:
        for e in r["csv"]:
            rps = e["rows"] / e["time_s_median"] if e["time_s_median"] else 0
            out.append(f"| {label} | {e['endpoint']} | {e['status']} | {e['rows']:,} | {e['bytes']:,} | "
                       f"{e['time_s_median']} | {e['ttfb_s_median']} | {e['mb_per_s']} | {rps:,.0f} | "
                       f"{e['rss_before_mb']} | {e['peak_rss_mb']} |")
    return out


def report(out_md, workdir):
    ds = load(workdir, "datasette.json")
    ours = [(lbl, load(workdir, fn)) for lbl, fn in
            (("opengov-api SQLite", "opengov-sqlite.json"), ("opengov-api PostgreSQL", "opengov-pg.json"),
             ("opengov-api SQLite baseline", "opengov-sqlite-baseline.json"))]
    ours = [(lbl, r) for lbl, r in ours if r]
    meta = load(workdir, "meta.json") or {}
    L = []
    L.append(f"# opengov-api vs Datasette — {meta.get('date', '?')} on {meta.get('machine', '?')}")
    L.append("")
    L.append("Produced by `bench/run.sh` in one run on one machine (see the commands at the end); "
             "loopback only; medians of the wrk rounds. Ratios are opengov-api / Datasette in this same run.")
    L.append("")
    for k in ("date", "machine_detail", "binary", "wrk", "datasette", "config", "quiet"):
        if k in meta:
            L.append(f"- {k}: {meta[k]}")
    L.append("")
    L.append("## Ratios to Datasette (same run)")
    L.append("")
    hdr = "| endpoint | target | Datasette | " + " | ".join(f"{lbl}" for lbl, _ in ours) + " | " + \
        " | ".join(f"ratio {lbl.split()[-1]}" for lbl, _ in ours) + " |"
    L.append(hdr)
    L.append("|---|---:|---:|" + "---:|" * (2 * len(ours)))
    dsd = {e["endpoint"]: e for e in ds["endpoints"]} if ds else {}
    dsc = {e["endpoint"]: e for e in ds["csv"]} if ds else {}
    verdicts = {}
    for name in ("a_list", "b_filtered", "c_item", "e_deep_keyset"):
        d = dsd.get(name, {}).get("rps")
        vals = []
        rats = []
        for lbl, r in ours:
            v = next((e["rps"] for e in r["endpoints"] if e["endpoint"] == name), None)
            vals.append(v)
            q = ratio(v, d)
            rats.append(q)
            verdicts[(name, lbl)] = q
        L.append(f"| {name} ({LABELS[name]}), req/s | ≥ {TARGETS[name]}× | {fmt(d)} | " +
                 " | ".join(fmt(v) for v in vals) + " | " + " | ".join(fmt(q, 1) + "×" for q in rats) + " |")
    name = "d_csv_road_works"
    d = dsc.get(name, {}).get("mb_per_s")
    vals, rats = [], []
    for lbl, r in ours:
        v = next((e["mb_per_s"] for e in r["csv"] if e["endpoint"] == name), None)
        vals.append(v)
        q = ratio(v, d)
        rats.append(q)
        verdicts[(name, lbl)] = q
    L.append(f"| {name} ({LABELS[name]}), MB/s | ≥ {TARGETS[name]}× | {fmt(d, 1)} | " +
             " | ".join(fmt(v, 1) for v in vals) + " | " + " | ".join(fmt(q, 1) + "×" for q in rats) + " |")
    # rows/s for CSV too (the byte counts differ: our CSV has lon, lat, wkt columns)
    dr = None
    if name in dsc and dsc[name]["time_s_median"]:
        dr = dsc[name]["rows"] / dsc[name]["time_s_median"]
    vals, rats = [], []
    for lbl, r in ours:
        e = next((e for e in r["csv"] if e["endpoint"] == name), None)
        v = e["rows"] / e["time_s_median"] if e and e["time_s_median"] else None
        vals.append(v)
        rats.append(ratio(v, dr))
    L.append(f"| {name}, rows/s (for reference) | | {fmt(dr)} | " + " | ".join(fmt(v) for v in vals) +
             " | " + " | ".join(fmt(q, 1) + "×" for q in rats) + " |")
    L.append("")
    L.append("Deep page vs first page (target: within 20 %):")
    L.append("")
    for lbl, r in ours:
        e = {x["endpoint"]: x for x in r["endpoints"]}
        if "a_list" in e and "e_deep_keyset" in e:
            L.append(f"- {lbl}: e_deep_keyset {e['e_deep_keyset']['rps']:,.0f} req/s = "
                     f"{100 * e['e_deep_keyset']['rps'] / e['a_list']['rps']:.0f} % of a_list {e['a_list']['rps']:,.0f} req/s")
    L.append("")
    L.append("Notes:")
    L.append("")
    L.append("- Our CSV has 12 columns (the 9 schema fields, then `lon`, `lat`, `wkt`), Datasette's 11, so the byte "
             "counts differ; the rows/s line compares the same rows.")
    L.append("- For opengov-api on PostgreSQL, `other CPU %` is mostly the PostgreSQL server processes (they are not "
             "children of the API process), not other work on the machine.")
    for lbl, fn in (("SQLite", "server-sqlite.log"), ("PostgreSQL", "server-pg.log")):
        p = os.path.join(workdir, fn)
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                n503 = sum(1 for line in fh if '" 503 ' in line)
            if n503:
                L.append(f"- opengov-api {lbl} answered HTTP 503 {n503} times during the run (its log: "
                         "`database unavailable: timed out waiting for connection`); wrk counts them as errors.")
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | " + " | ".join(lbl for lbl, _ in ours) + " |")
    L.append("|---|" + "---|" * len(ours))
    for name in ("a_list", "b_filtered", "c_item", "e_deep_keyset", "d_csv_road_works"):
        cells = []
        for lbl, _ in ours:
            q = verdicts.get((name, lbl))
            cells.append("n/a" if q is None else f"{'met' if q >= TARGETS[name] else 'MISSED'} ({q:.1f}×)")
        L.append(f"| {LABELS[name]} ≥ {TARGETS[name]}× | " + " | ".join(cells) + " |")
    cells = []
    for lbl, r in ours:
        e = {x["endpoint"]: x for x in r["endpoints"]}
        if "a_list" in e and "e_deep_keyset" in e:
            rel = e["e_deep_keyset"]["rps"] / e["a_list"]["rps"]
            cells.append(f"{'met' if rel >= 0.8 else 'MISSED'} ({100 * rel:.0f} %)")
        else:
            cells.append("n/a")
    L.append("| deep page within 20 % of first page | " + " | ".join(cells) + " |")
    big = [(lbl, load(workdir, fn)) for lbl, fn in (("SQLite", "export-1m-sqlite.json"), ("PostgreSQL", "export-1m-pg.json"))]
    cells = []
    for lbl, b in big:
        if b:
            worst = max(x["peak_minus_idle_mb"] for x in b["runs"])
            cells.append(f"{'met' if worst <= 64 else 'MISSED'} (+{worst} MB)")
        else:
            cells.append("n/a")
    L.append("| 1,000,000-row CSV export: peak RSS ≤ idle + 64 MB | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Import (opengov-api `import`, rows/s from its log)")
    L.append("")
    L.append("| rows | backend | rows | seconds | rows/s |")
    L.append("|---:|---|---:|---:|---:|")
    for key, rows, lbl in (("import-200k-sqlite", "200,000", "SQLite"), ("import-200k-pg", "200,000", "PostgreSQL"),
                           ("import-1m-sqlite", "1,000,000", "SQLite"), ("import-1m-pg", "1,000,000", "PostgreSQL")):
        imp = (meta.get("imports") or {}).get(key)
        if imp:
            L.append(f"| {rows} | {lbl} | {imp['rows']:,} | {imp['seconds']} | {imp['rows_per_s']:,} |")
    L.append("")
    L.append("## 1,000,000-row CSV export (whole registry, curl; VmRSS sampled every 50 ms)")
    L.append("")
    L.append("| backend | run | HTTP | bytes | rows | columns | ids 1..N in order | time s | TTFB s | MB/s | idle RSS MB | peak RSS MB (sampled / VmHWM) | peak − idle MB |")
    L.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for lbl, b in big:
        if not b:
            continue
        for i, x in enumerate(b["runs"], 1):
            L.append(f"| {lbl} | {i} | {x['status']} | {x['bytes']:,} | {x['rows']:,} | {x['columns']} | "
                     f"{x['ids_sequential']} ({x['first_id']}..{x['last_id']}) | {x['total_s']:.2f} | {x['ttfb_s']:.3f} | "
                     f"{x['mb_per_s']} | {x['idle_rss_mb']} | {x['peak_rss_mb_sampled']} / {x['peak_rss_mb_hwm']} | "
                     f"{x['peak_minus_idle_mb']} |")
    L.append("")
    L.append("## All measurements")
    L.append("")
    runs = ([("Datasette", ds)] if ds else []) + ours
    L += endpoint_table(runs)
    L.append("")
    L.append("Paths:")
    L.append("")
    for lbl, r in runs:
        for e in r["endpoints"] + r["csv"]:
            p = e["path"]
            if len(p) > 160:
                p = p[:150] + "…"
            L.append(f"- {lbl} {e['endpoint']}: `{p}`")
    L.append("")
    L.append("## Commands")
    L.append("")
    L.append("```sh")
    L += meta.get("commands", [])
    L.append("```")
    L.append("")
    with open(out_md, "w", encoding="utf-8") as fh:
        fh.write("\n".join(L))
    print("\n".join(L))


# ------------------------------------------------------------------ HTML pages (STEPS=html)
class PageScan(html.parser.HTMLParser):
    """Tables (header and body rows as cell texts) and element counts of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.counts = [], {}
        self._table = self._row = self._cell = None
        self._section = None

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag == "table":
            self._table = {"attrs": dict(attrs), "head": [], "rows": []}
            self.tables.append(self._table)
        elif self._table is not None and tag in ("thead", "tbody"):
            self._section = tag
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self._table["head"] if self._section == "thead" else self._table["rows"]).append(self._row)
            self._row = None
        elif tag == "table":
            self._table = self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def expected_html_rows(csv_path, n=100):
    """The first n rows of the whole table and of the filtered page (road-works, year > 2000), by id."""
    first, filtered = [], []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if len(first) < n:
                first.append(row)
            if row["registry"] == "road-works" and int(row["year"]) > 2000 and len(filtered) < n:
                filtered.append(row)
            if len(first) == n and len(filtered) == n:
                break
    return first, filtered


def verify_html(base, args_file, csv_path, facts_out, label):
    """Each page answers 200 text/html; its item table (the table with the most body rows) holds
    exactly the expected 100 rows in order (ids in the first column), and the first row shows the
    expected name and address. Facts about each page (bytes, rows, elements) go to facts_out."""
    check_loopback(base)
    first, filtered = expected_html_rows(csv_path)
    facts = json.load(open(facts_out)) if os.path.exists(facts_out) else {}
    ok = True
    for ln in (x.strip() for x in open(args_file)):
        if not ln.startswith("--endpoint="):
            continue
        name, path = ln[len("--endpoint="):].split("=", 1)
        want = filtered if "filtered" in name else first
        with urllib.request.urlopen(base + path, timeout=60) as r:
            status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
        if not name.startswith("h"):  # a JSON reference page of the same query: the same ids
            ids = [i["id"] for i in json.loads(body)["items"]]
            good = status == 200 and ids == [w["id"] for w in want]
            ok &= good
            print(f"  {label} {name}: HTTP {status} {ctype}, {len(body)} bytes, {len(ids)} items "
                  f"{'OK' if good else 'WRONG'}")
            continue
        scan = PageScan()
        scan.feed(body.decode("utf-8"))
        table = max(scan.tables, key=lambda t: len(t["rows"]), default={"rows": [], "head": [], "attrs": {}})
        ids = [row[0] if row else None for row in table["rows"]]
        top = table["rows"][0] if table["rows"] else []
        good = (status == 200 and ctype.startswith("text/html")
                and ids == [w["id"] for w in want]
                and want[0]["name"] in top and want[0]["address"] in top)
        if "filtered" in name:
            good &= all("road-works" in row for row in table["rows"])
        ok &= good
        print(f"  {label} {name}: HTTP {status} {ctype}, {len(body)} bytes, {len(table['rows'])} rows "
              f"(ids {ids[0] if ids else None}..{ids[-1] if ids else None}, expected "
              f"{want[0]['id']}..{want[-1]['id']}), first row {top[:3]} {'OK' if good else 'WRONG'}")
        c = scan.counts
        facts[f"{label}/{name}"] = {
            "path": path, "bytes": len(body), "rows": len(table["rows"]),
            "columns": len(table["head"][0]) if table["head"] else len(top),
            "elements": sum(c.values()), "links": c.get("a", 0), "tables": len(scan.tables),
            "forms": c.get("form", 0), "inputs": c.get("input", 0) + c.get("select", 0),
            "options": c.get("option", 0), "scripts": c.get("script", 0),
            "stylesheets": body.count(b'rel="stylesheet"') + body.count(b"rel=stylesheet"),
        }
    with open(facts_out, "w") as fh:
        json.dump(facts, fh, indent=2, ensure_ascii=False)
    if not ok:
        sys.exit("verification failed")


HTML_PAGES = (("h1_first_page", "first page, 100 rows"),
              ("h2_filtered", "filtered page (road-works, year > 2000), 100 rows"))


def html_report(out_md, workdir):
    ds = load(workdir, "html-datasette.json")
    ours = [(lbl, load(workdir, fn)) for lbl, fn in
            (("SQLite", "html-sqlite.json"), ("PostgreSQL", "html-pg.json"))]
    ours = [(lbl, r) for lbl, r in ours if r]
    facts = load(workdir, "html-pages.json") or {}
    meta = load(workdir, "meta.json") or {}
    by = lambda r: {e["endpoint"]: e for e in r["endpoints"]}  # noqa: E731
    dsd = by(ds) if ds else {}
    cpu_ms = lambda e: 10 * e["server_cpu_pct"] / e["rps"] if e.get("rps") and e.get("server_cpu_pct") is not None else None  # noqa: E731
    L = [f"# HTML pages: opengov-api registry browser vs Datasette's table view — {meta.get('date', '?')} on {meta.get('machine', '?')}",
         "",
         "Produced by `STEPS=html bench/run.sh` in one run on one machine (commands at the end); loopback only; "
         "medians of the wrk rounds. Ratios are opengov-api / Datasette in this same run: for req/s higher is "
         "better, for latency and CPU per request lower is better.",
         ""]
    meta["datasette"] = meta.get("datasette", "?").replace("run by the kit's run_peers.sh:", "started with the kit's command line:")
    meta["config"] = meta.get("config", "?").split("; CSV:")[0] + "; " + meta.get("config", "").split("rows; ", 1)[-1]
    for k in ("date", "machine_detail", "binary", "wrk", "datasette", "config", "quiet"):
        if k in meta:
            L.append(f"- {k}: {meta[k]}")
    L += ["", "## Ratios to Datasette (same run)", "",
          "| page | backend | req/s: ours / Datasette | ratio | p50 ratio | p90 ratio | p99 ratio | server CPU ms per request: ours / Datasette | bytes per response: ours / Datasette |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, what in HTML_PAGES:
        d = dsd.get(name)
        for lbl, r in ours:
            e = by(r).get(name)
            if not d or not e:
                continue
            q = lambda k: fmt(ratio(e[k], d[k]), 2) + "×"  # noqa: E731
            L.append(f"| {what} | {lbl} | {fmt(e['rps'])} / {fmt(d['rps'])} | **{fmt(ratio(e['rps'], d['rps']), 1)}×** | "
                     f"{q('p50_ms')} | {q('p90_ms')} | {q('p99_ms')} | "
                     f"{fmt(cpu_ms(e), 2)} / {fmt(cpu_ms(d), 2)} ({fmt(ratio(cpu_ms(e), cpu_ms(d)), 2)}×) | "
                     f"{e['bytes_per_resp']:,} / {d['bytes_per_resp']:,} |")
    L += ["", "Server CPU ms per request = the server process's CPU time during the rounds / requests served "
          "(PostgreSQL's own processes are not children of the API, so on PostgreSQL it leaves out the database's "
          "share; see `other CPU %` below).", ""]
    refs = [(lbl, by(r)) for lbl, r in ours]
    if any("j1_json_first_page" in e for _, e in refs):
        L += ["### The same query as JSON (what the HTML adds)", "",
              "`/api/v1/registries/bench/items` with the same parameters, measured in the same run: the page "
              "runs this query (`browse_items`), so the difference is the page's own work (rendering with "
              "maud, the registry's texts and sources, the larger response).", "",
              "| page | backend | HTML req/s | JSON req/s | HTML / JSON | HTML CPU ms/req | JSON CPU ms/req |",
              "|---|---|---:|---:|---:|---:|---:|"]
        for (name, what), jname in zip(HTML_PAGES, ("j1_json_first_page", "j2_json_filtered")):
            for lbl, e in refs:
                h, j = e.get(name), e.get(jname)
                if h and j:
                    L.append(f"| {what} | {lbl} | {fmt(h['rps'])} | {fmt(j['rps'])} | {fmt(ratio(h['rps'], j['rps']), 2)}× | "
                             f"{fmt(cpu_ms(h), 2)} | {fmt(cpu_ms(j), 2)} |")
        L.append("")
    L += ["## What each page contains (as served to wrk: no Accept-Encoding, so uncompressed)", "",
          "| server | page | bytes | table rows × columns | elements | links | tables | forms | inputs + selects | options | scripts | stylesheets |",
          "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, f in facts.items():
        L.append(f"| {key.split('/')[0]} | {key.split('/')[1]} | {f['bytes']:,} | {f['rows']} × {f['columns']} | {f['elements']:,} | "
                 f"{f['links']:,} | {f['tables']} | {f['forms']} | {f['inputs']} | {f['options']} | {f['scripts']} | {f['stylesheets']} |")
    L += ["", "What the pages are (the numbers above count the HTML document only; each page's stylesheets "
          "and scripts are further requests, cached by a browser, and not measured):", "",
          "- Datasette's table view (`/registry/registry_items`): its page shell, the exact row count of the "
          "table or of the filter (200,000 / \"32,297 rows where registry = road-works and year > 2000\"), the "
          "filter form (one row per current filter plus an empty one, each a column select and 20 operators), "
          "sort controls, a link to edit the SQL, export links (JSON, CSV, advanced export options), the "
          "100 × 11 table (every column, `lat` and `lon` included; each id links to the row's page), the "
          "next-page link, the table's `CREATE TABLE` / `CREATE INDEX` text, the time its queries took, and "
          "its JavaScript for column actions.",
          "- opengov-api's registry browser (`/registries/bench`): the site shell (skip link, navigation, "
          "language switch, footer with the page's API call and its curl command), the sample-data notice, the "
          "registry's description and passport (keywords, license, publisher, release, sources, the 9-field "
          "schema table), the filter form named like the API's filters (search, a control per field), the "
          "matching count (counted up to 1,000, cached per release: \"at least 1000\" here; `count=exact` "
          "counts them all), the downloads "
          "of the same filter (CSV, CSV for Excel, GeoJSON, NDJSON), the map container (Leaflet then loads "
          "the page's items as GeoJSON: one more API request, not measured here), the 100 × 9 table (the 9 "
          "schema fields; the point is in the map, not in columns; sortable headers; each id links to the "
          "item in the API), the pager and the citations.",
          "- Neither server compresses here: wrk sends no `Accept-Encoding` (opengov-api would send gzip or "
          "brotli to a browser)."]
    notes = []
    quiet = meta.get("quiet", "")
    if "NOT quiet" in quiet:
        notes.append("The machine was not quiet before every measurement (see `quiet` above: other builds were "
                     "running); `other CPU %` in the table below shows how much other work ran during each "
                     "endpoint's rounds. Ratios within this run carry that noise.")
    for lbl, r in ([("Datasette", ds)] if ds else []) + [(f"opengov-api {lbl}", r) for lbl, r in ours]:
        for e in r["endpoints"]:
            if e["probe_status"] != 200:
                first = (e.get("probe_body") or "").split("<title>")[-1].split("<")[0].strip()
                notes.append(f"{lbl} {e['endpoint']}: measure.py's single probe right before the rounds got "
                             f"HTTP {e['probe_status']} ({first or 'no title'}); the wrk rounds counted "
                             f"{e['errors']} errors, and verify-html had checked the page before the load.")
            elif e["errors"]:
                kinds = ", ".join(f"{k[4:]} {v}" for k, v in e["errors_detail"].items() if v)
                notes.append(f"{lbl} {e['endpoint']}: wrk counted {e['errors']} error(s) in {e['requests']:,} "
                             f"requests ({kinds}; `status` = a non-2xx/3xx answer, see the server's log).")
    if notes:
        L += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    L += ["", "## All measurements", ""]
    L += endpoint_table(([("Datasette", ds)] if ds else []) + [(f"opengov-api {lbl}", r) for lbl, r in ours])[:-3]
    L += ["", "Paths:", ""]
    for lbl, r in ([("Datasette", ds)] if ds else []) + [(f"opengov-api {lbl}", r) for lbl, r in ours]:
        for e in r["endpoints"]:
            L.append(f"- {lbl} {e['endpoint']}: `{e['path']}`")
    L += ["", "## Commands", "", "```sh"] + meta.get("commands", []) + ["```", ""]
    with open(out_md, "w", encoding="utf-8") as fh:
        fh.write("\n".join(L))
    print("\n".join(L))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "deep-cursor":
        deep_cursor(args[0], int(args[1]))
    elif cmd == "verify":
        verify(*args)
    elif cmd == "export-rss":
        rep = 2
        if "--repeats" in args:
            i = args.index("--repeats")
            rep = int(args[i + 1])
            args = args[:i] + args[i + 2:]
        export_rss(*args, repeats=rep)
    elif cmd == "report":
        report(*args)
    elif cmd == "verify-html":
        verify_html(*args)
    elif cmd == "html-report":
        html_report(*args)
    elif cmd == "cursor":
        print(computed_cursor(int(args[0])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
