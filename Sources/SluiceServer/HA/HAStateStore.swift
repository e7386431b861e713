import Foundation
import SluiceCluster

/// The durable part of an HA node in its data directory: the term and vote (`GroupMember`'s
/// `PersistentState`, or the witness's state) and the boot counter. Each write goes to a temporary
/// file that is fsynced and renamed over the old one, so a crash leaves the old or the new state,
/// never a torn one.
struct HAStateStore: Sendable {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    // MARK: Data node

    func loadMember() throws -> PersistentState {
        guard let fields = try read("term") else { return PersistentState() }
        guard let term = fields["term"].flatMap(UInt64.init) else { throw HAStateError("\(directory)/term: no term") }
        let vote = fields["votedFor"].flatMap { $0.isEmpty ? nil : $0 }
        return PersistentState(term: term, votedFor: vote)
    }

    func save(_ state: PersistentState) throws {
        try write("term", ["term": String(state.term), "votedFor": state.votedFor ?? ""])
    }

    /// Counts this start and returns its number (1 for the first boot).
    func nextIncarnation() throws -> UInt64 {
        let previous = try read("incarnation")?["incarnation"].flatMap(UInt64.init) ?? 0
        try write("incarnation", ["incarnation": String(previous + 1)])
        return previous + 1
    }

    // MARK: Witness

    func loadWitness(group: String) throws -> Witness.State {
        guard let f = try read("witness-\(group)") else { return Witness.State() }
        return Witness.State(term: f["term"].flatMap(UInt64.init) ?? 0,
                             votedFor: f["votedFor"].flatMap { $0.isEmpty ? nil : $0 },
                             knownLog: LogPosition(term: f["knownTerm"].flatMap(UInt64.init) ?? 0,
                                                   index: f["knownIndex"].flatMap(UInt64.init) ?? 0))
    }

    func save(_ state: Witness.State, group: String) throws {
        try write("witness-\(group)", ["term": String(state.term), "votedFor": state.votedFor ?? "",
                                       "knownTerm": String(state.knownLog.term), "knownIndex": String(state.knownLog.index)])
    }

    // MARK: Files

    /// `key=value` lines; nil when the file does not exist.
    private func read(_ name: String) throws -> [String: String]? {
        let path = "\(directory)/\(name)"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return fields
    }

    private func write(_ name: String, _ fields: [String: String]) throws {
        let text = fields.keys.sorted().map { "\($0)=\(fields[$0]!)\n" }.joined()
        let path = "\(directory)/\(name)", temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw HAStateError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { throw HAStateError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        guard rename(temporary, path) == 0 else { throw HAStateError("cannot replace \(path): \(String(cString: strerror(errno)))") }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}

struct HAStateError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
