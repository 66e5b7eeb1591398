#!/usr/bin/env python3
"""System-level benchmarks of the real sluiced (make bench): start-up time, idle memory,
and timer wake-up lateness with and without SCHED_FIFO, idle and under stress-ng.

Usage: system_bench.py BIN_DIR [--cycles N]. Prints a markdown table and writes JSON next to
this script (results/system-latest.json). Timing on these VMs is noisy: figures are reported,
not asserted."""
import json, os, signal, socket, subprocess, sys, tempfile, time, shutil

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
CYCLES = int(sys.argv[sys.argv.index("--cycles") + 1]) if "--cycles" in sys.argv else 10_000
HERE = os.path.dirname(os.path.abspath(__file__))


class Daemon:
    def __init__(self, config=None):
        self.dir = tempfile.mkdtemp(prefix="sluice-bench-")
        os.chmod(self.dir, 0o700)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.dir, XDG_CONFIG_HOME=self.dir + "/cfg", HOME=self.dir)
        self.env.pop("SLUICE_SOCKET", None)
        args = [os.path.join(BIN, "sluiced")]
        if config is not None:
            path = os.path.join(self.dir, "sluiced.toml")
            open(path, "w").write(config)
            args += ["--config", path]
        self.socket = os.path.join(self.dir, "sluice", "control")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, env=self.env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        self.ready_s = None
        deadline = self.t0 + 10
        while time.perf_counter() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.socket)
                s.close()
                self.ready_s = time.perf_counter() - self.t0
                break
            except OSError:
                time.sleep(0.0002)
        if self.ready_s is None:
            raise RuntimeError("sluiced did not start")

    def sluice(self, *args):
        return subprocess.run([os.path.join(BIN, "sluice"), *args], env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def dump(self):
        return json.loads(self.sluice("dump", "--json"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
        return err.decode()


def memory(pid):
    status = open(f"/proc/{pid}/status").read()
    rss = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS"))
    pss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/smaps_rollup").read().splitlines() if l.startswith("Pss:"))
    return rss, pss


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def startup(runs=20):
    times, own = [], []
    for _ in range(runs):
        d = Daemon()
        times.append(d.ready_s * 1000)
        log = d.stop()
        for line in log.splitlines():
            if "ready:" in line and "ms)" in line:
                own.append(float(line.rsplit("(", 1)[1].split()[0]))
    return {"spawn_to_socket_ms_median": round(median(times), 2), "spawn_to_socket_ms_max": round(max(times), 2),
            "main_to_ready_ms_median": round(median(own), 3) if own else None, "runs": runs}


def idle_memory():
    d = Daemon()
    time.sleep(2)
    rss, pss = memory(d.proc.pid)
    switches0 = ctxt(d.proc.pid)
    time.sleep(5)
    switches1 = ctxt(d.proc.pid)
    d.stop()
    return {"rss_kib": rss, "pss_kib": pss, "wakeups_per_s_idle": round((switches1 - switches0) / 5, 2)}


def ctxt(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        for l in open(f"/proc/{pid}/task/{t}/status").read().splitlines():
            if "ctxt_switches" in l:
                total += int(l.split()[1])
    return total


def lateness(priority, stress):
    config = f"[graph]\nquantum = 64\n[realtime]\npriority = {priority}\n[[node]]\ntype = \"null-sink\"\nname = \"null\"\n"
    load = None
    if stress:
        load = subprocess.Popen(["stress-ng", "--cpu", "2", "--timeout", "120s", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    d = Daemon(config)
    try:
        d.sluice("add", "sine", "tone")
        d.sluice("link", "tone", "null")
        while d.dump()["timing"]["cycles"] < CYCLES:
            time.sleep(0.5)
        s = d.dump()
    finally:
        d.stop()
        if load:
            load.send_signal(signal.SIGTERM)
            load.wait()
    t = s["timing"]
    l = t["lateness_ns"]
    return {"policy": s["realtime"]["policy"], "load": "stress-ng --cpu 2" if stress else "idle",
            "cycles": t["cycles"], "p50_us": l["p50"] / 1000, "p99_us": l["p99"] / 1000, "p999_us": l["p999"] / 1000,
            "max_us": l["max"] / 1000, "xruns": t["xruns"], "missed_ticks": t["missed_ticks"],
            "processing_p50_us": t["processing_ns"]["p50"] / 1000, "processing_max_us": t["processing_ns"]["max"] / 1000}


def main():
    results = {"startup": startup(), "idle": idle_memory(), "lateness": []}
    have_stress = shutil.which("stress-ng") is not None
    for stress in ([False, True] if have_stress else [False]):
        for prio in (80, 0):
            results["lateness"].append(lateness(prio, stress))
    os.makedirs(os.path.join(HERE, "..", "results"), exist_ok=True)
    json.dump(results, open(os.path.join(HERE, "..", "results", "system-latest.json"), "w"), indent=2)
    st, idle = results["startup"], results["idle"]
    print(f"start to control socket ready: median {st['spawn_to_socket_ms_median']} ms (max {st['spawn_to_socket_ms_max']} ms; "
          f"main() to ready {st['main_to_ready_ms_median']} ms), {st['runs']} runs")
    print(f"idle: RSS {idle['rss_kib']} KiB, PSS {idle['pss_kib']} KiB, {idle['wakeups_per_s_idle']} context switches/s")
    print()
    print(f"timer wake-up lateness over {CYCLES} cycles at quantum 64 (1.333 ms):")
    print("| policy | load | p50 µs | p99 µs | p99.9 µs | max µs | xruns | missed ticks | cycle p50 µs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["lateness"]:
        print(f"| {r['policy']} | {r['load']} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {r['p999_us']:.0f} | {r['max_us']:.0f} | "
              f"{r['xruns']} | {r['missed_ticks']} | {r['processing_p50_us']:.0f} |")


if __name__ == "__main__":
    main()
