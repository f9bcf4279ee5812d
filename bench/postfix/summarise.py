#!/usr/bin/python3
"""bench/postfix/summarise.py RESULTS.jsonl — the table of bench/postfix/run.sh.

Reads the harness summaries of one run.sh invocation (labels "sign|verify/tcp|unix/DAEMON/ROUND"),
prints per scenario, socket and daemon the medians over the rounds (daemon CPU-ms per message,
msgs/s, Postfix CPU-ms per message) and the largest peak RSS, then the ratios and the issue's
targets, each marked met / NOT met. Exit status 1 if any harness run failed its header check or
lost a message; the targets never change the exit status (speed is reported, not asserted).
"""
import json
import statistics
import sys

# The targets for inkan-dkim in this harness (issue 4, "Performance").
CPU_TARGET_MS = {"sign": 0.5, "verify": 0.15}
RSS_TARGET_MB = 10.0
NULL_RATIO_TARGET = 0.90      # msgs/s >= 90 % of the null milter's
TCP_UNIX_TOLERANCE = 0.10     # TCP and unix msgs/s within 10 % of each other


def main(path):
    rows = {}
    failed = []
    with open(path) as fh:
        for line in fh:
            if not line.strip():
                continue
            s = json.loads(line)
            try:
                sc, sock, daemon, _round = s["label"].split("/")
            except ValueError:
                continue
            if not (s.get("checks_ok") and s.get("all_sent")):
                failed.append(s["label"])
            r = rows.setdefault((sc, sock, daemon), dict(cpu=[], mps=[], pf=[], rss=[], bg=[]))
            r["cpu"].append(s["median_dut_cpu_ms_per_msg"])
            r["mps"].append(s["median_msgs_per_s"])
            r["pf"].append(s["median_postfix_cpu_ms_per_msg"])
            r["rss"].append(max((d["peak_rss_mb"] for d in s["daemons"].values()), default=0.0))
            r["bg"].append(s["max_background_busy_pct_before"])
    if not rows:
        print("summarise: no bench/postfix results in " + path, file=sys.stderr)
        return 1

    med = lambda xs: statistics.median(xs)  # noqa: E731
    print("| scenario | socket | daemon | runs | daemon CPU-ms/msg | msgs/s | peak RSS MB | Postfix CPU-ms/msg |")
    print("|---|---|---|---|---|---|---|---|")
    for (sc, sock, daemon), r in sorted(rows.items()):
        print(f"| {sc} | {sock} | {daemon} | {len(r['cpu'])} | {med(r['cpu']):.3f} "
              f"({', '.join(f'{x:.3f}' for x in r['cpu'])}) | {med(r['mps']):.1f} | {max(r['rss']):.1f} | "
              f"{med(r['pf']):.3f} |")
    print()

    def get(sc, sock, daemon, key):
        r = rows.get((sc, sock, daemon))
        return med(r[key]) if r else None

    verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    scenarios = sorted({k[0] for k in rows})
    sockets = sorted({k[1] for k in rows})
    print("Ratios measured side by side in this run (medians over the rounds):")
    for sc in scenarios:
        for sock in sockets:
            cpu = get(sc, sock, "inkan-dkim", "cpu")
            if cpu is None:
                continue
            line = [f"  {sc}/{sock}: inkan-dkim CPU {cpu:.3f} ms/msg (target <= {CPU_TARGET_MS[sc]}: "
                    f"{verdict(cpu <= CPU_TARGET_MS[sc])})"]
            rss = max(rows[(sc, sock, "inkan-dkim")]["rss"])
            line.append(f"peak RSS {rss:.1f} MB (< {RSS_TARGET_MB:.0f}: {verdict(rss < RSS_TARGET_MB)})")
            null_mps, null_cpu = get(sc, sock, "null", "mps"), get(sc, sock, "null", "cpu")
            if null_mps:
                ratio = get(sc, sock, "inkan-dkim", "mps") / null_mps
                line.append(f"msgs/s / null milter {ratio:.3f} (>= {NULL_RATIO_TARGET}: "
                            f"{verdict(ratio >= NULL_RATIO_TARGET)}); the null milter's own CPU "
                            f"{null_cpu:.3f} ms/msg")
            od_cpu, od_mps = get(sc, sock, "opendkim", "cpu"), get(sc, sock, "opendkim", "mps")
            if od_cpu:
                line.append(f"inkan / opendkim: CPU x{cpu / od_cpu:.2f}, msgs/s "
                            f"x{get(sc, sock, 'inkan-dkim', 'mps') / od_mps:.2f}, peak RSS "
                            f"x{rss / max(rows[(sc, sock, 'opendkim')]['rss']):.2f}")
            print(";\n    ".join(line))
        tcp, unix = get(sc, "tcp", "inkan-dkim", "mps"), get(sc, "unix", "inkan-dkim", "mps")
        if tcp and unix:
            ratio = tcp / unix
            print(f"  {sc}: inkan-dkim TCP / unix msgs/s {ratio:.3f} (within {TCP_UNIX_TOLERANCE:.0%}: "
                  f"{verdict(abs(ratio - 1) <= TCP_UNIX_TOLERANCE)})")
    busy = max(max(r["bg"]) for r in rows.values())
    print(f"Largest machine load in the second before a timed phase: {busy}% "
          "(above 20 %: another job was running; compare CPU-ms/msg rather than msgs/s).")
    if failed:
        print("FAILED runs (header check or lost messages): " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: summarise.py RESULTS.jsonl", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
