import SluiceCore

/// `insert … into S`: publishes the query's output to a stream's junction.
final class InsertIntoStream: Processor {
    let junction: StreamJunction

    init(junction: StreamJunction) {
        self.junction = junction
    }

    override func process(_ chunk: EventBatch) {
        junction.publish(chunk)
    }
}
