import NIOCore
import NIOPosix
import SluiceClient
import SluiceCore
import SluiceTransport
import SluiceWire

/// A raw protocol client for tests: writes frames, reads them back in order.
final class TestConnection: @unchecked Sendable {
    let channel: Channel
    private let frames: AsyncStream<Frame>
    private var iterator: AsyncStream<Frame>.Iterator

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = Frame
        let continuation: AsyncStream<Frame>.Continuation
        init(_ c: AsyncStream<Frame>.Continuation) { continuation = c }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    init(port: Int, group: EventLoopGroup) async throws {
        let (stream, continuation) = AsyncStream<Frame>.makeStream()
        frames = stream
        iterator = stream.makeAsyncIterator()
        channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                FramePipeline.configure(channel).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func send(_ frame: Frame) async throws {
        try await channel.writeAndFlush(frame).get()
    }

    /// Writes raw bytes, bypassing the frame encoder (for malformed input).
    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.pipeline.context(handlerType: MessageToByteHandler<FrameEncoder>.self).flatMap { ctx in
            ctx.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)))
        }.get()
    }

    /// The next frame, or nil once the node closed the connection.
    func next() async -> Frame? {
        await iterator.next()
    }

    func close() async {
        try? await channel.close()
    }

    static func hello(role: Sluice_V1_Role, producer: UInt64 = 0, streams: [Sluice_V1_StreamSchema] = [], token: String = "") -> Frame {
        var h = Sluice_V1_Hello()
        h.protocolVersion = ControlMessage.protocolVersion
        h.role = role
        h.producerID = producer
        h.streams = streams
        h.authToken = token
        return ControlMessage.hello(h)
    }

    static func batch(_ batch: EventBatch, stream: UInt32, producer: UInt64, sequence: UInt64) throws -> Frame {
        var payload = ByteBuffer()
        try BatchCodec.encode(batch, header: BatchHeader(streamID: stream, producerID: producer, sequence: sequence), into: &payload)
        return Frame(kind: .eventBatch, payload: payload)
    }
}

/// Collects the rows a subscriber receives until there are `count` of them.
func collectRows(_ subscriber: Subscriber, count: Int) -> Task<[[Value]], Error> {
    Task {
        var rows: [[Value]] = []
        for try await batch in subscriber {
            for r in 0..<batch.count { rows.append(batch.values(at: r)) }
            if rows.count >= count { break }
        }
        return rows
    }
}
