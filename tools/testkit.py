"""Helpers the process-level tests share (e2e, failover, cluster, tiers)."""
import os
import socket

# The seed's Request stream, as `sluice send --schema` and app texts write it.
REQUEST_SCHEMA = ("meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string, "
                  "applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, "
                  "apiTier string, apiHostname string, username string, userTenantDomain string, requestTimestamp long, "
                  "throttledOut bool, responseTime long, backendTime long")


def free_port():
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
