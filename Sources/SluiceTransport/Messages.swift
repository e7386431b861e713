import NIOCore
import SluiceCore
import SluiceWire
import SwiftProtobuf

/// The protocol's small control frames (docs/protocol.md). Event batches bypass these:
/// `BatchCodec` writes them straight into the frame buffer.
public enum ControlMessage {
    public static let protocolVersion: UInt32 = 1

    /// Serialising a control message built here cannot fail: every field is a plain value.
    static func frame<M: WireMessage>(_ message: M) -> Frame {
        (try? Frame(message)) ?? Frame(kind: M.frameKind, payload: ByteBuffer())
    }

    public static func error(_ code: Sluice_V1_ErrorCode, _ message: String) -> Frame {
        var e = Sluice_V1_Error()
        e.code = code
        e.message = message
        return frame(e)
    }

    public static func ack(producer: UInt64, sequence: UInt64) -> Frame {
        var a = Sluice_V1_Ack()
        a.producerID = producer
        a.sequence = sequence
        return frame(a)
    }

    public static func nack(producer: UInt64, sequence: UInt64, code: Sluice_V1_ErrorCode, reason: String, retryable: Bool) -> Frame {
        var n = Sluice_V1_Nack()
        n.producerID = producer
        n.sequence = sequence
        n.code = code
        n.reason = reason
        n.retryable = retryable
        return frame(n)
    }

    public static func credit(_ batches: UInt32) -> Frame {
        var c = Sluice_V1_Credit()
        c.batches = batches
        return frame(c)
    }

    public static func welcome(_ w: Sluice_V1_Welcome) -> Frame { frame(w) }
    public static func hello(_ h: Sluice_V1_Hello) -> Frame { frame(h) }
    public static func subscribe(_ s: Sluice_V1_Subscribe) -> Frame { frame(s) }

    /// The wire error code that matches a decoder's `WireError`.
    public static func code(of error: WireError) -> Sluice_V1_ErrorCode {
        Sluice_V1_ErrorCode(rawValue: error.code.rawValue) ?? .malformedMessage
    }
}

/// Reads the stream id of an EventBatch payload without decoding it: the node needs it to pick
/// the schema the batch decodes against. Field 1 (a varint) comes first when present; proto3
/// omits it when it is 0.
public enum BatchPeek {
    public static func streamID(_ payload: ByteBuffer) throws -> UInt32 {
        var buffer = payload
        while let tag = readVarint(&buffer) {
            let field = tag >> 3, wire = tag & 7
            if field == 1 && wire == 0 {
                guard let v = readVarint(&buffer), v <= UInt64(UInt32.max) else { break }
                return UInt32(v)
            }
            if field > 1 { return 0 }
            break
        }
        throw WireError(.malformedMessage, "the event batch has no readable stream id")
    }

    private static func readVarint(_ buffer: inout ByteBuffer) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = buffer.readInteger(as: UInt8.self) {
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}

/// Stream schemas as the wire describes them.
public enum WireSchema {
    public static func message(name: String, attributes: [(name: String, type: AttributeType)]) -> Sluice_V1_StreamSchema {
        var s = Sluice_V1_StreamSchema()
        s.name = name
        s.attributes = attributes.map { a in
            var w = Sluice_V1_Attribute()
            w.name = a.name
            w.type = wireType(a.type)
            return w
        }
        return s
    }

    public static func wireType(_ t: AttributeType) -> Sluice_V1_AttributeType { t.wireValue ?? .unspecified }

    public static func attributeType(_ t: Sluice_V1_AttributeType) -> AttributeType? { AttributeType(wireValue: t) }

    /// The attributes of a wire schema, or nil when one has no type Sluice knows.
    public static func attributes(_ s: Sluice_V1_StreamSchema) -> [(name: String, type: AttributeType)]? {
        var out: [(name: String, type: AttributeType)] = []
        for a in s.attributes {
            guard let t = attributeType(a.type) else { return nil }
            out.append((a.name, t))
        }
        return out
    }
}
