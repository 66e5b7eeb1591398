/// Compiles the graph model into an immutable `ExecutionPlan`. [control; allocates]
enum PlanCompiler {
    static func compile(model: GraphModel, silence: PortBuffer, driver: Driver, format: GraphFormat, generation: Int) -> ExecutionPlan {
        let orderIDs = model.topologicalOrder()
        var keepAlive: [AnyObject] = [silence]
        var tables: [UnsafeMutableRawPointer] = []
        let steps = UnsafeMutableBufferPointer<PlanStep>.allocate(capacity: orderIDs.count)
        var mixList: [MixOperation] = []
        var mixSourceList: [UnsafePointer<Float>] = []

        // Incoming links per (node, input port), in link order.
        var incoming: [Int: [Int: [Link]]] = [:]
        for l in model.links { incoming[l.toNode, default: [:]][l.toPort, default: []].append(l) }

        for (position, id) in orderIDs.enumerated() {
            let record = model.records[id]!
            let node = record.node
            keepAlive.append(node)
            keepAlive.append(record.stats)
            keepAlive.append(contentsOf: record.outputBuffers as [AnyObject])
            let inputCount = node.inputPortNames.count
            let outputCount = node.outputPortNames.count
            let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(inputCount, 1))
            let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: max(outputCount, 1))
            let linkCounts = UnsafeMutablePointer<Int32>.allocate(capacity: max(inputCount, 1))
            tables.append(UnsafeMutableRawPointer(inputs))
            tables.append(UnsafeMutableRawPointer(outputs))
            tables.append(UnsafeMutableRawPointer(linkCounts))
            let mixStart = mixList.count
            var linked = 0
            for port in 0..<inputCount {
                let feeds = incoming[id]?[port] ?? []
                linkCounts[port] = Int32(feeds.count)
                if !feeds.isEmpty { linked += 1 }
                switch feeds.count {
                case 0:
                    inputs[port] = UnsafePointer(silence.pointer)
                case 1:
                    // A single link aliases the upstream buffer: no copy.
                    inputs[port] = UnsafePointer(model.records[feeds[0].fromNode]!.outputBuffers[feeds[0].fromPort].pointer)
                default:
                    let mixBuffer = record.mixBuffers[port]
                    keepAlive.append(mixBuffer)
                    mixList.append(MixOperation(destination: mixBuffer.pointer, sourceStart: mixSourceList.count, sourceCount: feeds.count))
                    for f in feeds {
                        mixSourceList.append(UnsafePointer(model.records[f.fromNode]!.outputBuffers[f.fromPort].pointer))
                    }
                    inputs[port] = UnsafePointer(mixBuffer.pointer)
                }
            }
            for port in 0..<outputCount { outputs[port] = record.outputBuffers[port].pointer }
            (steps.baseAddress! + position).initialize(to: PlanStep(
                node: Unmanaged.passUnretained(node), stats: Unmanaged.passUnretained(record.stats),
                inputs: inputs, outputs: outputs, linkCounts: linkCounts,
                inputCount: inputCount, outputCount: outputCount, linkedInputCount: linked,
                mixStart: mixStart, mixCount: mixList.count - mixStart))
        }
        let mixes = UnsafeMutableBufferPointer<MixOperation>.allocate(capacity: max(mixList.count, 1))
        _ = mixes.initialize(from: mixList)
        let sources = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: max(mixSourceList.count, 1))
        _ = sources.initialize(from: mixSourceList)
        return ExecutionPlan(quantum: format.quantum, sampleRate: format.sampleRate, generation: generation, driver: driver,
                             steps: steps, mixes: mixes, mixSources: sources,
                             pointerTables: tables, keepAlive: keepAlive)
    }
}
