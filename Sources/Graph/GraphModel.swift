/// A port address: node name and port name, written `node:port`.
public struct PortAddress: Hashable, Sendable, CustomStringConvertible {
    public let node: String
    public let port: String
    public init(node: String, port: String) {
        self.node = node
        self.port = port
    }
    /// Parses `node:port`; nil when there is no ':'.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        node = String(text[..<colon])
        port = String(text[text.index(after: colon)...])
    }
    public var description: String { "\(node):\(port)" }
}

/// A link from an output port to an input port.
public struct Link: Hashable, Sendable {
    public let fromNode: Int
    public let fromPort: Int
    public let toNode: Int
    public let toPort: Int
}

/// The graph as the control side knows it: nodes, their buffers, and links. [control]
/// Pure bookkeeping: validation (names, directions, cycles) and topological order.
final class GraphModel {
    struct NodeRecord {
        let id: Int
        let node: AudioNode
        let stats: NodeStats
        let outputBuffers: [PortBuffer]
        let mixBuffers: [PortBuffer]
    }

    private(set) var records: [Int: NodeRecord] = [:]
    private(set) var order: [Int] = []          // insertion order
    private var idsByName: [String: Int] = [:]
    private(set) var links: [Link] = []
    private var nextID = 1

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".") && $0.isASCII
        }
    }

    func add(_ node: AudioNode, outputBuffers: [PortBuffer], mixBuffers: [PortBuffer]) throws(GraphError) -> Int {
        guard Self.isValidName(node.name) else { throw .invalidNodeName(node.name) }
        guard idsByName[node.name] == nil else { throw .duplicateNodeName(node.name) }
        let id = nextID
        nextID += 1
        records[id] = NodeRecord(id: id, node: node, stats: NodeStats(), outputBuffers: outputBuffers, mixBuffers: mixBuffers)
        order.append(id)
        idsByName[node.name] = id
        return id
    }

    func remove(named name: String) throws(GraphError) -> NodeRecord {
        guard let id = idsByName[name], let record = records[id] else { throw .unknownNode(name) }
        links.removeAll { $0.fromNode == id || $0.toNode == id }
        records[id] = nil
        idsByName[name] = nil
        order.removeAll { $0 == id }
        return record
    }

    func record(named name: String) throws(GraphError) -> NodeRecord {
        guard let id = idsByName[name], let r = records[id] else { throw .unknownNode(name) }
        return r
    }

    func outputIndex(_ address: PortAddress) throws(GraphError) -> (Int, Int) {
        let r = try record(named: address.node)
        guard let i = r.node.outputPortNames.firstIndex(of: address.port) else {
            if r.node.inputPortNames.contains(address.port) { throw .wrongDirection(node: address.node, port: address.port, expected: "output") }
            throw .unknownPort(node: address.node, port: address.port, available: r.node.outputPortNames)
        }
        return (r.id, i)
    }

    func inputIndex(_ address: PortAddress) throws(GraphError) -> (Int, Int) {
        let r = try record(named: address.node)
        guard let i = r.node.inputPortNames.firstIndex(of: address.port) else {
            if r.node.outputPortNames.contains(address.port) { throw .wrongDirection(node: address.node, port: address.port, expected: "input") }
            throw .unknownPort(node: address.node, port: address.port, available: r.node.inputPortNames)
        }
        return (r.id, i)
    }

    func name(of id: Int) -> String { records[id]?.node.name ?? "#\(id)" }

    func address(of link: Link) -> (PortAddress, PortAddress) {
        let from = records[link.fromNode]!.node, to = records[link.toNode]!.node
        return (PortAddress(node: from.name, port: from.outputPortNames[link.fromPort]),
                PortAddress(node: to.name, port: to.inputPortNames[link.toPort]))
    }

    /// True when `target` can be reached from `start` by following links downstream.
    func reaches(from start: Int, to target: Int) -> Bool {
        var seen: Set<Int> = [start]
        var stack = [start]
        while let n = stack.popLast() {
            if n == target { return true }
            for l in links where l.fromNode == n && !seen.contains(l.toNode) {
                seen.insert(l.toNode)
                stack.append(l.toNode)
            }
        }
        return false
    }

    func addLink(_ link: Link) throws(GraphError) {
        let (from, to) = addressDescriptions(link)
        guard !links.contains(link) else { throw .alreadyLinked(from: from, to: to) }
        // A link A→B closes a cycle exactly when A is already reachable from B.
        guard !reaches(from: link.toNode, to: link.fromNode) else { throw .wouldCreateCycle(from: from, to: to) }
        links.append(link)
    }

    func removeLink(_ link: Link) throws(GraphError) {
        guard let i = links.firstIndex(of: link) else {
            let (from, to) = addressDescriptions(link)
            throw .notLinked(from: from, to: to)
        }
        links.remove(at: i)
    }

    private func addressDescriptions(_ link: Link) -> (String, String) {
        let (a, b) = address(of: link)
        return (a.description, b.description)
    }

    /// Nodes in an order where every node comes after all nodes linked into it; ties keep
    /// insertion order so plans are deterministic.
    func topologicalOrder() -> [Int] {
        var indegree: [Int: Int] = [:]
        for id in order { indegree[id] = 0 }
        var downstream: [Int: [Int]] = [:]
        for l in links {
            indegree[l.toNode, default: 0] += 1
            downstream[l.fromNode, default: []].append(l.toNode)
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var ready = order.filter { indegree[$0] == 0 }
        var result: [Int] = []
        result.reserveCapacity(order.count)
        while !ready.isEmpty {
            ready.sort { position[$0]! > position[$1]! }
            let n = ready.removeLast()
            result.append(n)
            for d in downstream[n] ?? [] {
                indegree[d]! -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        precondition(result.count == order.count, "bug: a cycle got into the graph")
        return result
    }
}
