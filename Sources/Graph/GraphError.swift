import SluiceSystem

/// Everything a graph operation can refuse, with the context needed to act on it.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case unknownNode(String)
    case duplicateNodeName(String)
    case invalidNodeName(String)
    case unknownPort(node: String, port: String, available: [String])
    case wrongDirection(node: String, port: String, expected: String)
    case wouldCreateCycle(from: String, to: String)
    case alreadyLinked(from: String, to: String)
    case notLinked(from: String, to: String)
    case noMatchingPorts(from: String, to: String)
    case unknownNodeType(String, available: [String])
    case unknownParameter(node: String, parameter: String, available: [String])
    case invalidParameter(node: String, parameter: String, value: String, expected: String)
    case resourceFailure(what: String, errno: Errno)
    case nodeSetupFailed(node: String, reason: String)

    public var description: String {
        switch self {
        case .unknownNode(let n):
            "no node named '\(n)'; `sluice ls` lists the nodes"
        case .duplicateNodeName(let n):
            "a node named '\(n)' already exists; choose another name or remove it first with `sluice rm \(n)`"
        case .invalidNodeName(let n):
            "'\(n)' is not a valid node name: use letters, digits, '-', '_' and '.' (no ':' or spaces), at most 64 characters"
        case let .unknownPort(node, port, available):
            "node '\(node)' has no port '\(port)'; its ports are: \(available.joined(separator: ", "))"
        case let .wrongDirection(node, port, expected):
            "port '\(node):\(port)' is not an \(expected) port"
        case let .wouldCreateCycle(from, to):
            "linking \(from) to \(to) would close a cycle in the graph; links must flow one way"
        case let .alreadyLinked(from, to):
            "\(from) is already linked to \(to)"
        case let .notLinked(from, to):
            "\(from) is not linked to \(to)"
        case let .noMatchingPorts(from, to):
            "no ports of '\(from)' match the ports of '\(to)'; name them: `sluice link \(from):PORT \(to):PORT`"
        case let .unknownNodeType(t, available):
            "unknown node type '\(t)'; available types: \(available.joined(separator: ", "))"
        case let .unknownParameter(node, parameter, available):
            "node '\(node)' has no parameter '\(parameter)'; its parameters are: \(available.joined(separator: ", "))"
        case let .invalidParameter(node, parameter, value, expected):
            "'\(value)' is not a valid value for '\(parameter)' of '\(node)': expected \(expected)"
        case let .resourceFailure(what, errno):
            "could not \(what): \(errno)"
        case let .nodeSetupFailed(node, reason):
            "node '\(node)' could not start: \(reason)"
        }
    }
}
