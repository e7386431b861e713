import Foundation
import Yams

/// Reading a YAML config file up to its root node, shared by the node config and the topology.
extension Reader {
    /// The file's text and the folder its relative paths resolve against.
    static func read(path: String) throws(ConfigError) -> (text: String, folder: String) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, message: "cannot read the file")
        }
        return (String(decoding: data, as: UTF8.self), (NodeConfigFile.absolute(path) as NSString).deletingLastPathComponent)
    }

    /// The document's root; `whenEmpty` says what an empty file lacks.
    func root(of yaml: String, whenEmpty: String) throws(ConfigError) -> Yams.Node {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw yamlError(error)
        }
        guard let root else { throw ConfigError(file: file, message: "the file is empty; \(whenEmpty)") }
        return root
    }
}
