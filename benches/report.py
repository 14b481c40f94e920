#!/usr/bin/env python3
"""Turns one `cargo bench -p tessera-benches` run into the tables of BENCHMARKS.md.

Reads criterion's `<target>/criterion/<group>/<bench>/new/estimates.json`
(medians, in ns) and the extra results the benches save in
`<target>/criterion/tessera-extra/` (allocation counts, Redis throughput),
then rewrites the part of BENCHMARKS.md between the report markers and writes
`benches/results.svg`. Every ratio compares numbers of the same run.

    python3 benches/report.py [--target DIR] [--command "..."]

Python 3 standard library only.
"""

import argparse
import json
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"
FLOOR = "floor-hmac-precomputed"
TOKEN_GROUPS = [
    ("verify-HS256", "Verify, HS256, realistic token"),
    ("verify-HS384", "Verify, HS384"),
    ("verify-HS512", "Verify, HS512"),
    ("verify-large-HS256", "Verify, HS256, 4 KiB of claims"),
    ("reject-bad-signature-HS256", "Reject a bad signature, HS256"),
    ("sign-HS256", "Sign, HS256"),
]
TOKEN_LIBS = [
    "tessera",
    "tessera-registered",
    "jsonwebtoken",
    "jwt-simple",
    "jwt-compact",
    FLOOR,
    "floor-hmac-keyed-per-call",
]
WINDOW_LIBS = ["tessera", "tessera-2x-slots", "hashmap-vecdeque", "lru", "moka"]
WINDOW_OPS = [
    ("fresh", "begin + complete, fresh key"),
    ("replay", "begin on a live key (replay)"),
]
SIZES = [1024, 65536]
# PASETO v4 groups, their floor, and the peers tessera must beat 2× (`paseto.rs`).
PASETO_GROUPS = [
    ("paseto-v4.local-decrypt", "PASETO v4.local decrypt", "floor-blake2b-xchacha20"),
    ("paseto-v4.public-verify", "PASETO v4.public verify", "floor-ed25519-verify"),
]
PASETO_PEERS = ["pasetors", "rusty_paseto"]


# Targets that `benches/ratios.rs` also measures interleaved: check name ->
# (its name there, whether its ratio is the inverse of the check's).
INTERLEAVED = {
    "HS256 verify (typed claims via serde) ≤ 2.0× floor": ("verify-HS256: tessera ÷ floor", False),
    "HS256 verify (registered claims) ≤ 2.0× floor": ("verify-HS256: tessera-registered ÷ floor", False),
    "floor ≥ 4× faster than jsonwebtoken": ("verify-HS256: jsonwebtoken ÷ floor", False),
    "bad signature ≤ 1.2× floor": ("reject-bad-signature-HS256: tessera ÷ floor", False),
    "window fresh N=1,024: lru ÷ tessera ≥ 1.5": ("window-fresh-1024: tessera ÷ lru", True),
    "window replay N=1,024: lru ÷ tessera ≥ 1.5": ("window-replay-1024: tessera ÷ lru", True),
    **{
        f"{title}: {peer} ÷ tessera ≥ 2.0": (f"{group}: {peer} ÷ tessera", False)
        for group, title, _ in PASETO_GROUPS
        for peer in PASETO_PEERS
    },
    **{f"{title}: tessera ÷ floor ≤ 1.5": (f"{group}: tessera ÷ floor", False) for group, title, _ in PASETO_GROUPS},
}


def load_medians(crit: Path) -> dict:
    """{group: {bench: median_ns}} for every benchmark criterion saved."""
    out = {}
    for est in crit.glob("*/*/new/estimates.json"):
        bench, group = est.parent.parent.name, est.parent.parent.parent.name
        if group == "tessera-extra":
            continue
        data = json.loads(est.read_text())
        out.setdefault(group, {})[bench] = data["median"]["point_estimate"]
    return out


def load_extra(crit: Path, name: str):
    path = crit / "tessera-extra" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:,.1f} µs"
    return f"{ns:,.0f} ns"


def fmt_x(r: float) -> str:
    return f"{r:.2f}×"


def machine() -> str:
    model, cores = platform.processor() or "unknown CPU", os.cpu_count()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
        model = m.group(1).strip() if m else model
        sha = "sha_ni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        sha = False
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{model}, {cores} cores{' (SHA-NI)' if sha else ''}; {platform.system()} {platform.release()}; {rustc}"


def token_tables(med: dict, lines: list, checks: list) -> None:
    for group, title in TOKEN_GROUPS:
        g = med.get(group)
        if not g:
            continue
        floor, ours = g.get(FLOOR), g.get("tessera")
        lines += [f"#### {title} (`{group}`)", "", "| library | median | × floor | × tessera |", "|---|---:|---:|---:|"]
        for lib in TOKEN_LIBS:
            if lib not in g:
                continue
            x_floor = fmt_x(g[lib] / floor) if floor else ""
            x_ours = fmt_x(g[lib] / ours) if ours else ""
            lines.append(f"| {lib} | {fmt_ns(g[lib])} | {x_floor} | {x_ours} |")
        lines.append("")
    v, r = med.get("verify-HS256", {}), med.get("reject-bad-signature-HS256", {})
    if FLOOR in v:
        if "tessera" in v:
            checks.append(("HS256 verify (typed claims via serde) ≤ 2.0× floor", v["tessera"] / v[FLOOR], "≤", 2.0))
        if "tessera-registered" in v:
            checks.append(("HS256 verify (registered claims) ≤ 2.0× floor", v["tessera-registered"] / v[FLOOR], "≤", 2.0))
        if "jsonwebtoken" in v:
            checks.append(("floor ≥ 4× faster than jsonwebtoken", v["jsonwebtoken"] / v[FLOOR], "≥", 4.0))
    if FLOOR in r and "tessera" in r:
        checks.append(("bad signature ≤ 1.2× floor", r["tessera"] / r[FLOOR], "≤", 1.2))


def paseto_tables(med: dict, lines: list, checks: list) -> None:
    for group, title, floor_name in PASETO_GROUPS:
        g = med.get(group)
        if not g:
            continue
        floor, ours = g.get(floor_name), g.get("tessera")
        lines += [f"#### {title} (`{group}`)", "", "| library | median | × floor | × tessera |", "|---|---:|---:|---:|"]
        for lib in ["tessera", *PASETO_PEERS, floor_name]:
            if lib in g:
                x_floor = fmt_x(g[lib] / floor) if floor else ""
                x_ours = fmt_x(g[lib] / ours) if ours else ""
                lines.append(f"| {lib} | {fmt_ns(g[lib])} | {x_floor} | {x_ours} |")
        lines.append("")
        if ours:
            for peer in PASETO_PEERS:
                if peer in g:
                    checks.append((f"{title}: {peer} ÷ tessera ≥ 2.0", g[peer] / ours, "≥", 2.0))
            if floor:
                checks.append((f"{title}: tessera ÷ floor ≤ 1.5", ours / floor, "≤", 1.5))


def alloc_table(rows: list, lines: list, checks: list) -> None:
    ops = list(dict.fromkeys(r["operation"] for r in rows))
    libs = list(dict.fromkeys(r["library"] for r in rows))
    by = {(r["operation"], r["library"]): r for r in rows}
    lines += ["| operation | " + " | ".join(libs) + " |", "|---|" + "---:|" * len(libs)]
    for op in ops:
        cells = [f"{by[op, lib]['allocations']} ({by[op, lib]['bytes']} B)" if (op, lib) in by else "" for lib in libs]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines.append("")
    ours = [r["allocations"] for r in rows if r["library"] == "tessera"]
    checks.append(("tessera allocations, any operation", max(ours) if ours else float("nan"), "≤", 0))


def window_table(med: dict, lines: list, checks: list) -> None:
    for op, title in WINDOW_OPS:
        cols = [f"window-{op}-{n}" for n in SIZES]
        if not any(c in med for c in cols):
            continue
        lines += [
            f"#### Window: {title}",
            "",
            "| structure | N = 1,024 | × lru | N = 65,536 | × lru | 65,536 / 1,024 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for lib in WINDOW_LIBS:
            cells = []
            for c in cols:
                g = med.get(c, {})
                t, base = g.get(lib), g.get("lru")
                cells += [fmt_ns(t) if t else "", fmt_x(t / base) if t and base else ""]
            small, large = (med.get(c, {}).get(lib) for c in cols)
            growth = fmt_x(large / small) if small and large else ""
            lines.append(f"| {lib} | " + " | ".join(cells) + f" | {growth} |")
        lines.append("")
        for c, n in zip(cols, SIZES):
            g = med.get(c, {})
            for lib in ("tessera", "tessera-2x-slots"):
                if lib in g and "lru" in g:
                    checks.append((f"window {op} N={n:,}: lru ÷ {lib} ≥ 1.5", g["lru"] / g[lib], "≥", 1.5))
        for lib in ("tessera", "tessera-2x-slots"):
            small, large = (med.get(c, {}).get(lib) for c in cols)
            if small and large:
                checks.append((f"window {op}: {lib} 65,536 ÷ 1,024 ≤ 2.0", large / small, "≤", 2.0))


def redis_table(med: dict, redis: dict, lines: list, checks: list) -> None:
    lines += [
        f"Server: `{redis.get('server', 'redis-server')}`, started by the bench on 127.0.0.1. "
        "tessera: `RedisStore::begin` (claim script) then `complete` (CAS script) on a new key, "
        "either one connection per task or one multiplexed connection shared by all tasks.",
        "",
        "| concurrency | tessera pairs/s, connection per task | tessera pairs/s, multiplexed "
        "| redis-benchmark SET req/s | redis-benchmark EVALSHA claim req/s | per task ÷ SET | multiplexed ÷ SET |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def num(x):
        return f"{x:,.0f}" if x else "n/a"

    for row in redis["rows"]:
        c = row["concurrency"]
        g = med.get(f"redis-c{c}", {})
        own, mux = g.get("tessera-connection-per-task"), g.get("tessera-multiplexed")
        own, mux = (1e9 / own if own else None), (1e9 / mux if mux else None)
        set_, evalsha = row.get("redis_benchmark_set"), row.get("redis_benchmark_evalsha")
        r1 = own / set_ if own and set_ else None
        r2 = mux / set_ if mux and set_ else None
        lines.append(
            f"| {c} | {num(own)} | {num(mux)} | {num(set_)} | {num(evalsha)} "
            f"| {fmt_x(r1) if r1 else 'n/a'} | {fmt_x(r2) if r2 else 'n/a'} |"
        )
        if r1:
            checks.append((f"Redis pairs, c={c}, no pipelining ≥ 0.40× SET", r1, "≥", 0.40))
        if r2 and r1 and c > 1:
            checks.append((f"Redis multiplexed ÷ per task, c={c} ≥ 1.0", r2 / r1, "≥", 1.0))
    if redis.get("pipelined_set"):
        lines.append(f"\n`{redis.get('pipelined_command', 'redis-benchmark -P 16')}`: {redis['pipelined_set']:,.0f} req/s.")
    cmds = [c for row in redis["rows"] for c in row.get("commands", [])]
    if cmds:
        lines += ["", "Baseline commands (port chosen at run time):", ""] + [f"- `{c}`" for c in cmds]
    if redis.get("cpu"):
        lines += [
            "",
            "Where the time goes: 20,000 pairs run once more, CPU read from `/proc/self/stat` (client, this "
            "process) and `INFO cpu` (server). Both share the same two cores.",
            "",
            "| concurrency | connection | pairs/s | client CPU µs/pair | server CPU µs/pair |",
            "|---:|---|---:|---:|---:|",
        ]
        for r in redis["cpu"]:
            lines.append(
                f"| {r['concurrency']} | {r['connection']} | {r['pairs_per_sec']:,.0f} "
                f"| {r['client_cpu_us']:.1f} | {r['server_cpu_us']:.1f} |"
            )
    lines.append("")


def before_after(before: dict, med: dict, label: str, lines: list) -> None:
    """tessera in an earlier run (another core commit) next to this run, each
    also as a ratio to its own run's floor or `lru`, which the noise moves less."""
    lines += [
        f"tessera before ({label}) and now. Times come from two runs; the ratios are each "
        "against the floor (tokens) or `lru` (window) of the same run.",
        "",
        "| benchmark | before | now | before ÷ baseline | now ÷ baseline | baseline |",
        "|---|---:|---:|---:|---:|---|",
    ]
    groups = [g for g, _ in TOKEN_GROUPS] + [f"window-{op}-{n}" for op, _ in WINDOW_OPS for n in SIZES]
    for group in groups:
        b, n = before.get(group, {}), med.get(group, {})
        base = "lru" if group.startswith("window") else FLOOR
        for lib in ("tessera", "tessera-registered", "tessera-2x-slots"):
            if lib not in b or lib not in n:
                continue
            rb = fmt_x(b[lib] / b[base]) if base in b else ""
            rn = fmt_x(n[lib] / n[base]) if base in n else ""
            lines.append(f"| {group} / {lib} | {fmt_ns(b[lib])} | {fmt_ns(n[lib])} | {rb} | {rn} | {base} |")
    lines.append("")


def svg(med: dict, path: Path) -> None:
    """Horizontal bars, one panel per group, each scaled to its own slowest bar."""
    panels = [(g, t, TOKEN_LIBS) for g, t in TOKEN_GROUPS[:1] + TOKEN_GROUPS[4:]]
    panels += [(f"window-{op}-{n}", f"Window {op}, N = {n:,}", WINDOW_LIBS) for op, _ in WINDOW_OPS for n in SIZES]
    bar_h, gap, label_w, plot_w, y = 18, 4, 190, 420, 10
    body = []
    colour = {"tessera": "#1f77b4", "tessera-registered": "#6baed6", "tessera-2x-slots": "#6baed6"}
    for group, title, libs in panels:
        g = med.get(group)
        if not g:
            continue
        rows = [(lib, g[lib]) for lib in libs if lib in g]
        top = max(v for _, v in rows)
        body.append(f'<text x="0" y="{y + 14}" font-weight="bold">{title} (median, lower is better)</text>')
        y += 22
        for lib, v in rows:
            w = max(1.0, plot_w * v / top)
            fill = colour.get(lib, "#9e9e9e" if lib.startswith("floor") else "#ff7f0e")
            body.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{lib}</text>')
            body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{fill}"/>')
            body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{fmt_ns(v)}</text>')
            y += bar_h + gap
        y += 14
    width = label_w + plot_w + 90
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
        f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


def kept_rows(text: str, generated: set) -> list:
    """Rows of the current Targets table that this script does not produce:
    targets measured by hand in later runs (window, Redis, PASETO, gateway,
    the final core's tokens). A new run replaces its own rows only."""
    if BEGIN not in text or "### Targets" not in text:
        return []
    table = text.split(BEGIN, 1)[1].split("### Targets", 1)[1]
    rows = []
    # After the heading: the blurb, then the table (header, rule, rows).
    for line in table.split("\n\n", 2)[2].splitlines()[2:]:
        if not line.startswith("| "):
            break
        if line[2:].split(" | ", 1)[0] not in generated:
            rows.append(line)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    ap.add_argument("--target", default=default_target, help="cargo target directory of the run")
    ap.add_argument("--command", default="cargo bench -p tessera-benches", help="command that produced the run")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--before", help="criterion directory of a run against an earlier core (CRITERION_HOME)")
    ap.add_argument("--before-label", default="first design", help="what --before measured")
    args = ap.parse_args()
    crit = Path(args.target) / "criterion"
    med = load_medians(crit)
    if not med:
        raise SystemExit(f"no criterion results under {crit}")

    lines, checks = [], []
    lines += [
        f"Command: `{args.command}`, then `python3 benches/report.py`.",
        "",
        f"Machine: {machine()}.",
        "",
        "Medians of one criterion run; every ratio compares numbers of that same run.",
        "",
        "![results](benches/results.svg)",
        "",
        "### Tokens",
        "",
    ]
    token_tables(med, lines, checks)
    if any(group in med for group, _, _ in PASETO_GROUPS):
        lines += ["### PASETO v4", ""]
        paseto_tables(med, lines, checks)
    allocs = load_extra(crit, "allocations")
    if allocs:
        lines += ["### Allocations per call (counting global allocator)", ""]
        alloc_table(allocs, lines, checks)
    lines += ["### Idempotency window", ""]
    window_table(med, lines, checks)
    redis = load_extra(crit, "redis")
    if redis:
        lines += ["### Redis store", ""]
        redis_table(med, redis, lines, checks)

    if args.before:
        before = load_medians(Path(args.before))
        if before:
            lines += ["### Before / after (core design changes)", ""]
            before_after(before, med, args.before_label, lines)

    interleaved = {r["name"]: r["ratio"] for r in load_extra(crit, "ratios") or []}
    summary = [
        "### Targets",
        "",
        "*criterion*: ratio of two medians of the run below. *interleaved*: median per-round ratio of "
        "alternating batches (`benches/benches/ratios.rs`), which load bursts move far less; where it "
        "exists, it decides *met*. Rows with no criterion figure were measured by hand in later runs "
        "(the row or its section names the run); `report.py` keeps them when it rewrites the rest.",
        "",
        "| target | criterion | interleaved | met |",
        "|---|---:|---:|:---:|",
    ]
    for name, value, op, bound in checks:
        key, invert = INTERLEAVED.get(name, (None, False))
        inter = interleaved.get(key)
        if inter is not None and invert:
            inter = 1 / inter
        judged = inter if inter is not None else value
        ok = judged <= bound if op == "≤" else judged >= bound
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        shown_i = f"{inter:.2f}" if inter is not None else ""
        summary.append(f"| {name} | {shown} | {shown_i} | {'yes' if ok else '**no**'} |")
    out = Path(args.out)
    text = out.read_text() if out.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    summary += kept_rows(text, {name for name, _, _, _ in checks})
    block = "\n".join(summary + [""] + lines).rstrip() + "\n"

    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    out.write_text(f"{head}{BEGIN}\n{block}{END}{tail}")
    svg(med, ROOT / "benches" / "results.svg")
    print(f"wrote {out} and {ROOT / 'benches' / 'results.svg'}")


if __name__ == "__main__":
    main()
