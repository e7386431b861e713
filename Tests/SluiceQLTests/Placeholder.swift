import Testing
@testable import SluiceQL
@Test func placeholder() {}
