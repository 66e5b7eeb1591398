#!/usr/bin/env python3
"""N = 1 (or any N) CPU per stream, Sluice against PulseAudio, alternating the servers run by run
in one sitting and reporting medians: a single 10 s window moves by ±15 % from run to run for
every server on these machines, so small differences need several alternating runs.

Usage: pulse_alternate.py SLUICE_BIN_DIR [--rounds R] [--window S] [--streams N] [--monitored]
       [--servers sluice,pulseaudio]
Each run starts the server privately (as pulse_bench.py does), plays N pacats of a quiet tone
(plus a parec on the monitor with --monitored), lets them settle 5 s, and reads the server's
CPU (schedstat of every thread) over the window; per-thread figures are printed too."""
import os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pulse_bench as pb

def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default

ROUNDS, WINDOW, N = arg("--rounds", 5), arg("--window", 15.0), arg("--streams", 1)
MONITORED = "--monitored" in sys.argv
SERVERS = arg("--servers", "sluice,pulseaudio").split(",")


def threads(server):
    out = {}
    for p in server.procs:
        for t in os.listdir(f"/proc/{p.pid}/task"):
            try:
                name = open(f"/proc/{p.pid}/task/{t}/comm").read().strip()
                f = open(f"/proc/{p.pid}/task/{t}/schedstat").read().split()
                out[(p.pid, t, name)] = (int(f[0]), int(f[2]))
            except FileNotFoundError:
                pass
    return out


def one_run(kind, tone):
    s = pb.Server(kind)
    clients = []
    try:
        if MONITORED:
            clients.append(subprocess.Popen(["parec", "--device=@DEFAULT_MONITOR@", "--format=s16le", "--rate=48000", "--channels=2", "--raw"],
                                            env=s.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.5)
        for _ in range(N):
            clients.append(subprocess.Popen(["pacat", "--format=s16le", "--rate=48000", "--channels=2", "--raw", tone],
                                            env=s.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.02)
        time.sleep(5)
        a, t0 = threads(s), time.perf_counter()
        time.sleep(WINDOW)
        b, t1 = threads(s), time.perf_counter()
        total, detail = 0, []
        for k in b:
            if k in a:
                cpu, runs = b[k][0] - a[k][0], b[k][1] - a[k][1]
                total += cpu
                if cpu > 0:
                    detail.append(f"{k[2]} {cpu / 1e9 / (t1 - t0) * 100:.4f}% {runs / (t1 - t0):.1f} runs/s")
        return total / 1e9 / (t1 - t0) * 100 / N, detail
    finally:
        for c in clients:
            c.kill()
            c.wait()
        s.stop()


def main():
    workdir = tempfile.mkdtemp(prefix="bench-alt-")
    tone = workdir + "/tone.raw"
    length = int(WINDOW + 15)
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", "-e", "signed", "-t", "raw", tone, "synth", str(length), "sine", "440", "vol", "0.1"], check=True)
    results = {k: [] for k in SERVERS}
    for r in range(ROUNDS):
        for kind in SERVERS:
            pct, detail = one_run(kind, tone)
            results[kind].append(pct)
            print(f"round {r + 1} {kind}: {pct:.4f} % per stream ({'; '.join(detail)})", flush=True)
    os.remove(tone)
    os.rmdir(workdir)
    print(f"N = {N}{', monitored' if MONITORED else ''}, {ROUNDS} rounds of {WINDOW:g} s:")
    for kind, v in results.items():
        print(f"  {kind}: median {statistics.median(v):.4f} %  (min {min(v):.4f}, max {max(v):.4f})")


if __name__ == "__main__":
    main()
