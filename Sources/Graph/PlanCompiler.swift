/// Compiles the graph model into an immutable `ExecutionPlan`. [control; allocates]
enum PlanCompiler {
    static func compile(model: GraphModel, silence: PortBuffer, driver: Driver, format: GraphFormat, generation: Int) -> ExecutionPlan {
        let orderIDs = model.topologicalOrder()
        var keepAlive: [AnyObject] = [silence]
        var tables: [UnsafeMutableRawPointer] = []
        let steps = UnsafeMutableBufferPointer<PlanStep>.allocate(capacity: orderIDs.count)
        var mixList: [MixOperation] = []
        var mixSourceList: [UnsafePointer<Float>] = []

        // Incoming links per (node, input port), in link order; outgoing links per node.
        var incoming: [Int: [Int: [Link]]] = [:]
        var outgoing: [Int: [Link]] = [:]
        for l in model.links {
            incoming[l.toNode, default: [:]][l.toPort, default: []].append(l)
            outgoing[l.fromNode, default: []].append(l)
        }
        // Nodes that add straight into the mix buffer downstream: they can, and each of their
        // outputs has exactly one link, into an input that several links feed.
        var accumulating = Set<Int>()
        for (id, record) in model.records where record.node.canAccumulateOutputs {
            let links = outgoing[id] ?? []
            let outputs = record.node.outputPortNames.count
            guard outputs > 0, links.count == outputs, Set(links.map(\.fromPort)).count == outputs else { continue }
            if links.allSatisfy({ (incoming[$0.toNode]?[$0.toPort]?.count ?? 0) >= 2 }) { accumulating.insert(id) }
        }
        var clearList: [UnsafeMutablePointer<Float>] = []
        // Whose inputs someone uses, from the sinks back (reverse topological order): every node's
        // but a pass-through one (a null sink) whose outputs lead nowhere that is observed.
        var inputsObserved = Set<Int>()
        var outputsObserved = Set<Int>()
        for id in orderIDs.reversed() {
            let node = model.records[id]!.node
            if (outgoing[id] ?? []).contains(where: { inputsObserved.contains($0.toNode) }) { outputsObserved.insert(id) }
            if !node.passesInputsOnlyToOutputs || outputsObserved.contains(id) { inputsObserved.insert(id) }
        }

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
                switch inputsObserved.contains(id) ? feeds.count : 0 {
                case 0:
                    inputs[port] = UnsafePointer(silence.pointer)
                case 1:
                    // A single link aliases the upstream buffer: no copy.
                    inputs[port] = UnsafePointer(model.records[feeds[0].fromNode]!.outputBuffers[feeds[0].fromPort].pointer)
                default:
                    let mixBuffer = record.mixBuffers[port]
                    keepAlive.append(mixBuffer)
                    let summed = feeds.filter { !accumulating.contains($0.fromNode) }
                    let added = summed.count < feeds.count
                    if added { clearList.append(mixBuffer.pointer) }
                    mixList.append(MixOperation(destination: mixBuffer.pointer, sourceStart: mixSourceList.count,
                                                sourceCount: summed.count, addsToDestination: added))
                    for f in summed {
                        mixSourceList.append(UnsafePointer(model.records[f.fromNode]!.outputBuffers[f.fromPort].pointer))
                    }
                    inputs[port] = UnsafePointer(mixBuffer.pointer)
                }
            }
            if accumulating.contains(id) {
                // Each output points at the mix buffer of the one input it feeds.
                for l in outgoing[id]! { outputs[l.fromPort] = model.records[l.toNode]!.mixBuffers[l.toPort].pointer }
            } else {
                for port in 0..<outputCount { outputs[port] = record.outputBuffers[port].pointer }
            }
            (steps.baseAddress! + position).initialize(to: PlanStep(
                node: Unmanaged.passUnretained(node), stats: Unmanaged.passUnretained(record.stats),
                inputs: inputs, outputs: outputs, linkCounts: linkCounts,
                inputCount: inputCount, outputCount: outputCount, linkedInputCount: linked,
                mixStart: mixStart, mixCount: mixList.count - mixStart, accumulates: accumulating.contains(id),
                outputsObserved: outputsObserved.contains(id)))
        }
        let mixes = UnsafeMutableBufferPointer<MixOperation>.allocate(capacity: max(mixList.count, 1))
        _ = mixes.initialize(from: mixList)
        let sources = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: max(mixSourceList.count, 1))
        _ = sources.initialize(from: mixSourceList)
        let clears = UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>>.allocate(capacity: max(clearList.count, 1))
        _ = clears.initialize(from: clearList)
        return ExecutionPlan(quantum: format.quantum, sampleRate: format.sampleRate, generation: generation, driver: driver,
                             steps: steps, mixes: mixes, mixSources: sources, clears: UnsafeMutableBufferPointer(rebasing: clears[0..<clearList.count]),
                             allowsDeferral: driver.supportsDeferral && orderIDs.allSatisfy { model.records[$0]!.node.toleratesDeferredCycles },
                             pointerTables: tables, keepAlive: keepAlive)
    }
}
