import SluiceCore
import SluiceRuntime
import Workloads

/// The seed's stateful node app (examples/seed-node: a partition per tenant, lengthBatch(100)
/// statistics) in one process, on Request batches of 1,024: the partition's per-run cost.
final class SeedNodeDriver {
    let batches = (0..<Shape.batchesPerIteration).map { RequestEvents.batch($0) }
    let runtime: AppRuntime
    var rows = 0

    init() throws {
        let app = """
        define stream Request (meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string,
            applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, apiTier string,
            apiHostname string, username string, userTenantDomain string, requestTimestamp long, throttledOut bool,
            responseTime long, backendTime long);
        partition with (userTenantDomain of Request)
        begin
            from Request#window.lengthBatch(100)
            select userTenantDomain as tenant, count() as requests, sum(responseTime) as totalResponseTime,
                   max(responseTime) as maxResponseTime
            insert into TenantStats;
        end;
        """
        runtime = try AppRuntime(source: app)
        try runtime.addCallback(stream: "TenantStats") { [unowned self] batch in self.rows += batch.count }
    }

    func round() throws {
        for b in batches { try runtime.send(b, to: "Request") }
    }
}

@inline(never)
func seedNodeMeasuredRounds(_ driver: SeedNodeDriver, _ n: Int) throws {
    for _ in 0..<n { try driver.round() }
}

func runSeedNode(iterations: Int, timed: Bool) throws {
    let driver = try SeedNodeDriver()
    try driver.round()
    if !timed {
        try seedNodeMeasuredRounds(driver, iterations)
        print("seed-node: \(driver.rows) rows")
        return
    }
    let rate = try stageRate(iterations) { try driver.round() }
    print("seed-node (partition per tenant, lengthBatch(100)): M events/s p50 \(rate), \(driver.rows) rows")
}
