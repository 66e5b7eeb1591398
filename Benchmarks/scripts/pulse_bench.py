#!/usr/bin/env python3
"""Pulse-compatibility benchmarks, Sluice against PulseAudio 16.1 and pipewire-pulse, started
privately side by side in one run (make bench-compare). See shared anchors-headless notes.

Measures per server: CPU per playing pacat stream (48 kHz s16 stereo, default buffers) at
N = 1, 8, 32, 64 and at --latency-msec=10 with N = 8; server CPU per `pactl info`; PSS per idle
connected client; start to a ready default sink. CPU = sum of /proc/PID/task/*/schedstat over a
window. Usage: pulse_bench.py SLUICE_BIN_DIR [--servers sluice,pulseaudio,pipewire] [--window S] [--settle S]
(defaults: 5 s to settle, then a 10 s window)."""
import json, os, shutil, signal, socket, struct, subprocess, sys, tempfile, time

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
SERVERS = (sys.argv[sys.argv.index("--servers") + 1] if "--servers" in sys.argv else "sluice,pulseaudio,pipewire").split(",")
WINDOW = float(sys.argv[sys.argv.index("--window") + 1]) if "--window" in sys.argv else 10.0
# Streams settle this long before the window: pacat's default 2 s buffer is filled, and every
# server has touched the memory its queues use, so the window sees the steady state.
SETTLE = float(sys.argv[sys.argv.index("--settle") + 1]) if "--settle" in sys.argv else 5.0
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "pulse")


class Server:
    def __init__(self, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        os.chmod(self.dir, 0o700)
        os.makedirs(self.dir + "/home/.config/pulse")
        open(self.dir + "/home/.config/pulse/client.conf", "w").write("autospawn = no\n")
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.dir, HOME=self.dir + "/home", XDG_CONFIG_HOME=self.dir + "/home/.config",
                        PULSE_SERVER=f"unix:{self.dir}/pulse/native")
        self.procs = []
        t0 = time.perf_counter()
        if kind == "sluice":
            self.spawn([os.path.join(BIN, "sluiced")])
        elif kind == "pulseaudio":
            conf = self.dir + "/pa.pa"
            open(conf, "w").write("load-module module-null-sink sink_name=bench rate=48000 channels=2 format=s16le\n"
                                  f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.dir}/pulse/native\n"
                                  "set-default-sink bench\n")
            os.makedirs(self.dir + "/pulse", exist_ok=True)
            self.spawn(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "-F", conf])
        else:
            self.env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={self.dir}/bus"
            self.env["PIPEWIRE_RUNTIME_DIR"] = self.dir
            os.makedirs(self.dir + "/home/.config/pipewire/pipewire-pulse.conf.d")
            open(self.dir + "/home/.config/pipewire/pipewire-pulse.conf.d/50-bench.conf", "w").write(
                'pulse.cmd = [ { cmd = "load-module" args = "module-null-sink sink_name=bench rate=48000 channels=2 format=s16le" flags = [ ] } ]\n'
                'pulse.properties = { server.address = [ { address = "unix:native" max-clients = 256 } ] }\n')
            self.spawn(["dbus-daemon", "--session", f"--address=unix:path={self.dir}/bus", "--nofork", "--nopidfile"], measure=False)
            time.sleep(0.2)
            self.spawn(["pipewire"])
            while not os.path.exists(self.dir + "/pipewire-0"):
                time.sleep(0.005)
            self.spawn(["pipewire-pulse"])
            self.spawn(["wireplumber"])
        deadline = time.time() + 20
        while time.time() < deadline:
            r = subprocess.run(["pactl", "info"], env=self.env, capture_output=True, text=True)
            if r.returncode == 0 and "Default Sink: " in r.stdout and "Default Sink: @" not in r.stdout:
                break
            time.sleep(0.005)
        self.ready_ms = (time.perf_counter() - t0) * 1000
        time.sleep(1)

    def spawn(self, args, measure=True):
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if measure:
            self.procs.append(p)
        else:
            self.helper = p

    def cpu_ns(self):
        total = 0
        for p in self.procs:
            try:
                for t in os.listdir(f"/proc/{p.pid}/task"):
                    total += int(open(f"/proc/{p.pid}/task/{t}/schedstat").read().split()[0])
            except FileNotFoundError:
                pass
        return total

    def pss_kb(self):
        total = 0
        for p in self.procs:
            for l in open(f"/proc/{p.pid}/smaps_rollup"):
                if l.startswith("Pss:"):
                    total += int(l.split()[1])
        return total

    def stop(self):
        for p in reversed(self.procs + ([self.helper] if hasattr(self, "helper") else [])):
            p.send_signal(signal.SIGTERM)
        for p in self.procs + ([self.helper] if hasattr(self, "helper") else []):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def streams_cpu(server, n, latency=None, path=None, monitored=False):
    args = ["pacat", "--format=s16le", "--rate=48000", "--channels=2", "--raw"] + ([f"--latency-msec={latency}"] if latency else []) + [path]
    clients = []
    if monitored:
        # Somebody records the sink's monitor (parec's default buffers): every server must then
        # mix the streams for real; Sluice no longer defers cycles nor skips unobserved output.
        clients.append(subprocess.Popen(["parec", "--device=@DEFAULT_MONITOR@", "--format=s16le", "--rate=48000", "--channels=2", "--raw"],
                                        env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
    for _ in range(n):
        clients.append(subprocess.Popen(args, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.02)   # PulseAudio's listen backlog is 5
    time.sleep(SETTLE)
    c0, t0 = server.cpu_ns(), time.perf_counter()
    time.sleep(WINDOW)
    c1, t1 = server.cpu_ns(), time.perf_counter()
    alive = sum(1 for c in clients if c.poll() is None) - (1 if monitored else 0)
    for c in clients:
        c.kill()
        c.wait()
    time.sleep(0.5)
    pct = (c1 - c0) / 1e9 / (t1 - t0) * 100
    return {"streams": n, "alive": alive, "cpu_percent_total": round(pct, 3), "cpu_percent_per_stream": round(pct / max(n, 1), 4)}


def pactl_info_cost(server, runs=40):
    c0 = server.cpu_ns()
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(["pactl", "info"], env=server.env, capture_output=True)
        walls.append((time.perf_counter() - t) * 1000)
    c1 = server.cpu_ns()
    walls.sort()
    return {"server_cpu_ms_per_pactl_info": round((c1 - c0) / 1e6 / runs, 3), "pactl_info_wall_ms_median": round(walls[len(walls) // 2], 2)}


def idle_client_memory(server, n=50):
    before = server.pss_kb()
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(FIXTURES, "many_clients.py"), f"{server.dir}/pulse/native", str(n)],
                         env=server.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    time.sleep(1)
    after = server.pss_kb()
    p.stdin.close()
    p.wait()
    return {"idle_clients": line, "pss_kb_per_idle_client": round((after - before) / n, 1), "pss_kb_idle": before}


def main():
    workdir = tempfile.mkdtemp(prefix="bench-audio-")
    path = workdir + "/tone.raw"
    # 30 s of a quiet stereo tone: longer than any measurement window.
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", "-e", "signed", "-t", "raw", path, "synth", "30", "sine", "440", "vol", "0.1"], check=True)
    results = {}
    for kind in SERVERS:
        if kind != "sluice" and shutil.which({"pulseaudio": "pulseaudio", "pipewire": "pipewire-pulse"}[kind]) is None:
            print(f"{kind}: not installed (make bench-compare installs it)", file=sys.stderr)
            continue
        s = Server(kind)
        try:
            r = {"ready_ms": round(s.ready_ms, 1)}
            r.update(idle_client_memory(s))
            r.update(pactl_info_cost(s))
            r["streams"] = [streams_cpu(s, n, path=path) for n in (1, 8, 32, 64)]
            r["streams_latency10"] = streams_cpu(s, 8, latency=10, path=path)
            r["streams_monitored"] = [streams_cpu(s, n, path=path, monitored=True) for n in (1, 32)]
            r["method"] = {"settle_s": SETTLE, "window_s": WINDOW}
            results[kind] = r
        finally:
            s.stop()
        print(f"{kind}: done", file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.join(HERE, "..", "results"), exist_ok=True)
    json.dump(results, open(os.path.join(HERE, "..", "results", "pulse-latest.json"), "w"), indent=2)
    kinds = list(results)
    print("| measure | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    def row(name, f):
        print(f"| {name} | " + " | ".join(str(f(results[k])) for k in kinds) + " |")
    row("start → default sink ready (ms)", lambda r: r["ready_ms"])
    for i, n in enumerate((1, 8, 32, 64)):
        row(f"CPU % per stream, N={n} (alive)", lambda r, i=i: f'{r["streams"][i]["cpu_percent_per_stream"]} ({r["streams"][i]["alive"]})')
    row("CPU % per stream, N=8, --latency-msec=10", lambda r: r["streams_latency10"]["cpu_percent_per_stream"])
    for i, n in enumerate((1, 32)):
        row(f"CPU % per stream, N={n}, monitor recorded by parec", lambda r, i=i: f'{r["streams_monitored"][i]["cpu_percent_per_stream"]} ({r["streams_monitored"][i]["alive"]})')
    row("server CPU per `pactl info` (ms)", lambda r: r["server_cpu_ms_per_pactl_info"])
    row("`pactl info` wall time, median (ms)", lambda r: r["pactl_info_wall_ms_median"])
    row("PSS idle (kB)", lambda r: r["pss_kb_idle"])
    row("PSS per idle connected client (kB)", lambda r: r["pss_kb_per_idle_client"])


if __name__ == "__main__":
    main()
