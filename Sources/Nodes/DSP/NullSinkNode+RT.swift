import Graph

extension NullSinkNode {
    /// [rt] Copies each input to its monitor output, when something uses the monitor.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        guard context.outputsObserved else { return .ok }
        for c in 0..<min(context.inputCount, context.outputCount) {
            context.output(c).update(from: context.input(c), count: context.frameCount)
        }
        return .ok
    }

    /// [rt] Something plays into it.
    func hasWork(linkedInputCount: Int) -> Bool { linkedInputCount > 0 }
}
