import SluiceCore
import SluiceRuntime
import Workloads

/// The seed's stateful node apps in one process, on Request batches of 1,024 (tenants
/// interleaved): the partition's per-batch cost.
final class SeedNodeDriver {
    enum App {
        /// examples/seed-node: a partition per tenant, lengthBatch(100) statistics.
        case seedNode
        /// examples/seed-topology's tenant-stats.siddhi: per tenant and minute of request time.
        case tenantStats

        var partitionQuery: String {
            switch self {
            case .seedNode:
                """
                from Request#window.lengthBatch(100)
                select userTenantDomain as tenant, count() as requests, sum(responseTime) as totalResponseTime,
                       max(responseTime) as maxResponseTime
                insert into TenantStats;
                """
            case .tenantStats:
                """
                from Request#window.externalTimeBatch(requestTimestamp, 1 min)
                select userTenantDomain as tenant, count() as requestsPerMinute, avg(responseTime) as avgResponseTime,
                       max(responseTime) as maxResponseTime, sum(ifThenElse(throttledOut, 1, 0)) as throttledCount
                insert into TenantStats;
                """
            }
        }
    }

    let batches = (0..<Shape.batchesPerIteration).map { RequestEvents.batch($0) }
    let runtime: AppRuntime
    var rows = 0

    init(_ which: App) throws {
        let app = """
        define stream Request (meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string,
            applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, apiTier string,
            apiHostname string, username string, userTenantDomain string, requestTimestamp long, throttledOut bool,
            responseTime long, backendTime long);
        partition with (userTenantDomain of Request)
        begin
            \(which.partitionQuery)
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

func runSeedNode(_ app: SeedNodeDriver.App, iterations: Int, timed: Bool) throws {
    let driver = try SeedNodeDriver(app)
    try driver.round()
    if !timed {
        try seedNodeMeasuredRounds(driver, iterations)
        print("seed-node: \(driver.rows) rows")
        return
    }
    let rate = try stageRate(iterations) { try driver.round() }
    print("\(app == .seedNode ? "seed-node (partition per tenant, lengthBatch(100))" : "tenant-stats (partition per tenant, externalTimeBatch 1 min)"): M events/s p50 \(rate), \(driver.rows) rows")
}
