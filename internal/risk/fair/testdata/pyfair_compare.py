#!/usr/bin/env python3
"""Side-by-side check of `vigil risk fair` against pyfair.

pyfair is NOT part of vigil and is not vendored: supply it yourself, e.g.

    git clone https://github.com/Hive-Systems/pyfair /tmp/pyfair-src
    apt-get install python3-numpy python3-pandas python3-scipy
    go build -o /tmp/vigil ./cmd/vigil
    PYTHONPATH=/tmp/pyfair-src python3 internal/risk/fair/testdata/pyfair_compare.py /tmp/vigil

For each model it runs pyfair (1,000,000 simulations, seed 42, product
form) and vigil with the same inputs: per-year aggregation and pyfair's
moment-matched PERT ("method": "pyfair"), so the two are like for like.
It prints wall time, peak memory, mean ALE and type-7 percentiles of both,
and vigil's exact mean. A third vigil run shows the default per-event
compound form on the same inputs, whose mean must agree but whose tails
legitimately differ.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import pyfair
except ImportError:
    sys.exit("pyfair not importable: set PYTHONPATH to a pyfair checkout (see the docstring)")

N = 1_000_000


def pert(lo, mode, hi):
    return {"dist": "pert", "min": lo, "mode": mode, "max": hi, "method": "pyfair"}


MODELS = [
    {
        "name": "TEF PERT x V 0.6 x LM PERT",
        "pyfair": [
            ("Threat Event Frequency", dict(low=2, mode=10, high=30)),
            ("Vulnerability", dict(constant=0.6)),
            ("Loss Magnitude", dict(low=1000, mode=20000, high=500000)),
        ],
        "vigil": {
            "tef": pert(2, 10, 30),
            "vulnerability": 0.6,
            "magnitude": pert(1000, 20000, 500000),
        },
    },
    {
        "name": "LEF PERT x (PL + SLEF x SLEM)",
        "pyfair": [
            ("Loss Event Frequency", dict(low=0.1, mode=0.5, high=3)),
            ("Primary Loss", dict(low=5000, mode=40000, high=900000)),
            ("Secondary Loss Event Frequency", dict(low=0.1, mode=0.2, high=0.5)),
            ("Secondary Loss Event Magnitude", dict(low=10000, mode=80000, high=2000000)),
        ],
        "vigil": {
            "frequency": pert(0.1, 0.5, 3),
            "magnitude": pert(5000, 40000, 900000),
            "secondary": {
                "frequency": pert(0.1, 0.2, 0.5),
                "magnitude": pert(10000, 80000, 2000000),
            },
        },
    },
    {
        "name": "TEF PERT x P(TCap > CS) x LM PERT",
        "pyfair": [
            ("Threat Event Frequency", dict(low=1, mode=4, high=12)),
            ("Threat Capability", dict(low=0.3, mode=0.6, high=0.95)),
            ("Control Strength", dict(low=0.4, mode=0.7, high=0.9)),
            ("Loss Magnitude", dict(low=2000, mode=15000, high=300000)),
        ],
        "vigil": {
            "tef": pert(1, 4, 12),
            "vulnerability": {
                "threat_capability": pert(0.3, 0.6, 0.95),
                "resistance_strength": pert(0.4, 0.7, 0.9),
            },
            "magnitude": pert(2000, 15000, 300000),
        },
    },
]

PCTS = [10, 50, 90, 95, 99]


def run_pyfair(m):
    model = pyfair.FairModel(name=m["name"], n_simulations=N, random_seed=42)
    for node, kw in m["pyfair"]:
        model.input_data(node, **kw)
    t0 = time.perf_counter()
    model.calculate_all()
    dt = time.perf_counter() - t0
    risk = model.export_results()["Risk"].to_numpy()
    vuln = float(model.export_results()["Vulnerability"].mean())
    return dt, risk.mean(), np.percentile(risk, PCTS), vuln


def run_vigil(binary, args, stdin):
    """Runs vigil under /usr/bin/time for its own CPU time and peak RSS
    (the parent's getrusage would count the pre-exec copy of this big
    Python process)."""
    with tempfile.NamedTemporaryFile("r") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%U %S %M", binary] + args,
                           input=stdin, capture_output=True, text=True, check=True)
        dt = time.perf_counter() - t0
        u, s_, m = tf.read().split()[-3:]
    return dt, float(u) + float(s_), int(m) / 1024, p.stdout


def run_vigil_fair(binary, model, agg, workers):
    doc = dict(model, aggregation=agg)
    args = ["risk", "fair", "--iterations", str(N), "--seed", "42", "--workers", str(workers)]
    dt, cpu, rss, out = run_vigil(binary, args, json.dumps(doc))
    return dt, cpu, rss, json.loads(out)


def fmt(v):
    return "n/a (LEF given)" if v is None else f"{v:.4f}"


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "vigil"
    # The vigil binary links the whole platform; its start-up cost is
    # measured once so the engine's share can be read off.
    bdt, bcpu, brss, _ = run_vigil(binary, ["risk", "dist"], '{"dist":"constant","value":1}')
    print(f"vigil start-up baseline (risk dist, constant): wall {bdt:.3f} s, cpu {bcpu:.3f} s, peak RSS {brss:.0f} MiB\n")
    for m in MODELS:
        dt, mean, pct, vuln = run_pyfair(m)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"### {m['name']}")
        print(f"pyfair: calculate_all {dt:.3f} s (in process), peak RSS so far {rss:.0f} MiB, vulnerability {vuln:.4f}")
        rows = [("pyfair (per-year)", mean, pct)]
        for agg, workers in (("per-year", 1), ("per-year", 0), ("per-event", 1)):
            vdt, cpu, vrss, r = run_vigil_fair(binary, m["vigil"], agg, workers)
            label = f"vigil {agg} workers={workers or 'all'}"
            print(f"{label}: wall {vdt:.3f} s, cpu {cpu:.3f} s (whole process), "
                  f"peak RSS {vrss:.0f} MiB, vulnerability {fmt(r['vulnerability'])}, exact mean {r['ale_mean_exact']:.1f}")
            if workers == 1:
                rows.append((f"vigil {agg}", r["ale_mean"], [r[f"p{p}"] for p in PCTS]))
        print()
        print("| run | mean ALE | " + " | ".join(f"p{p}" for p in PCTS) + " |")
        print("|---|---:|" + "---:|" * len(PCTS))
        for label, mean, pct in rows:
            print(f"| {label} | {mean:,.0f} | " + " | ".join(f"{v:,.0f}" for v in pct) + " |")
        ref = rows[0]
        vy = rows[1]
        diffs = [abs(a - b) / b * 100 for a, b in zip(vy[2], ref[2])]
        print(f"\nvigil per-year vs pyfair: mean {abs(vy[1] - ref[1]) / ref[1] * 100:.2f} %, "
              f"percentiles within {max(diffs):.2f} %\n")


if __name__ == "__main__":
    main()
