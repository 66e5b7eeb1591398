import Glibc
import Graph
import SluiceSystem
import TextFormats

/// The JSON document `sluice dump --json` prints (schema: Docs/control-protocol.md).
enum StateJSON {
    static func histogram(_ h: HistogramSummary) -> JSONValue {
        .object(JSONObject([("count", .integer(h.count)), ("p50", .integer(h.p50Nanos)), ("p99", .integer(h.p99Nanos)),
                            ("p999", .integer(h.p999Nanos)), ("max", .integer(h.maxNanos))]))
    }

    static func dump(_ s: EngineSnapshot, daemon: Daemon) -> JSONValue {
        let policyName: String, policyPriority: Int64
        switch s.policy {
        case .fifo(let p): policyName = "SCHED_FIFO"; policyPriority = Int64(p)
        case .other: policyName = "SCHED_OTHER"; policyPriority = 0
        case .batch: policyName = "SCHED_BATCH"; policyPriority = 0
        }
        let nodes: [JSONValue] = s.nodes.map { n in
            func ports(_ ps: [PortSnapshot]) -> JSONValue {
                .array(ps.map { .object(JSONObject([("name", .string($0.name)), ("links", .array($0.links.map { .string($0) }))])) })
            }
            var params = JSONObject()
            for p in n.parameters { params[p.name] = .string(p.value) }
            var props = JSONObject()
            for (k, v) in n.properties { props[k] = .string(v) }
            return .object(JSONObject([
                ("id", .integer(Int64(n.id))), ("name", .string(n.name)), ("type", .string(n.type)),
                ("inputs", ports(n.inputs)), ("outputs", ports(n.outputs)),
                ("params", .object(params)), ("props", .object(props)),
                ("stats", .object(JSONObject([("cycles", .integer(n.stats.cycles)), ("last_ns", .integer(n.stats.lastNanos)),
                                              ("mean_ns", .integer(n.stats.meanNanos)), ("max_ns", .integer(n.stats.maxNanos)),
                                              ("overruns", .integer(n.stats.overruns))]))),
            ]))
        }
        let pools: [JSONValue] = s.pools.map { p in
            .object(JSONObject([("id", .integer(Int64(p.id))), ("domain", .string(p.domain.description)), ("purpose", .string(p.purpose)),
                                ("bytes", .integer(Int64(p.byteCount))), ("seals", .array(p.seals.names.map { .string($0) })),
                                ("mapping", .string(p.mapping)), ("slots", .integer(Int64(p.slotCount))),
                                ("slots_in_use", .integer(Int64(p.slotsInUse)))]))
        }
        return .object(JSONObject([
            ("version", .integer(1)),
            ("daemon", .object(JSONObject([("pid", .integer(Int64(getpid()))), ("uptime_ms", .integer(daemon.uptimeNanos / 1_000_000)),
                                           ("config", .string(daemon.config.source)), ("socket", .string(daemon.socketPath))]))),
            ("graph", .object(JSONObject([("rate", .integer(Int64(s.format.sampleRate))), ("quantum", .integer(Int64(s.quantum))),
                                          ("max_quantum", .integer(Int64(s.format.quantum))),
                                          ("period_ns", .integer(Int64(s.quantum) * 1_000_000_000 / Int64(s.format.sampleRate))),
                                          ("channels", .array(s.format.channelNames.map { .string($0) })),
                                          ("plan_generation", .integer(Int64(s.planGeneration)))]))),
            ("driver", .object(JSONObject([("name", .string(s.driver.name)), ("kind", .string(s.driver.kind)),
                                           ("priority", .integer(Int64(s.driver.priority))),
                                           ("candidates", .array(s.driver.candidates.map { .string($0) }))]))),
            ("realtime", .object(JSONObject([("requested_priority", .integer(Int64(s.requestedPriority))),
                                             ("policy", .string(policyName)), ("priority", .integer(policyPriority)),
                                             ("thread_running", .bool(s.isRunning)), ("hosted_by_control_thread", .bool(s.hosting))]))),
            ("timing", .object(JSONObject([("cycles", .integer(s.cycles.cycles)), ("xruns", .integer(s.cycles.xruns)),
                                           ("missed_ticks", .integer(s.cycles.missedTicks)), ("plan_swaps", .integer(s.cycles.planSwaps)),
                                           ("idle_sleeps", .integer(s.cycles.idleSleeps)),
                                           ("wake_ups", .integer(s.cycles.wakeUps)),
                                           ("deferring", .bool(s.cycles.deferring)),
                                           ("last_processing_ns", .integer(s.cycles.lastProcessingNanos)),
                                           ("lateness_ns", histogram(s.cycles.lateness)),
                                           ("processing_ns", histogram(s.cycles.processing))]))),
            ("pools", .array(pools)),
            ("nodes", .array(nodes)),
            ("links", .array(s.links.map { .object(JSONObject([("from", .string($0.from.description)), ("to", .string($0.to.description))])) })),
        ]))
    }
}
