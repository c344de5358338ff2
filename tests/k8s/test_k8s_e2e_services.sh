#!/usr/bin/env bash
# test_k8s_e2e_services: the upstream `[sig-network] Services` specs marked [Conformance]
# (e2e.test 1.20.2) that need no cluster DNS, on mesh. The lab runs no DNS server, and these
# specs resolve service names inside an exec pod (jig.CheckServiceReachability ->
# testReachabilityOverServiceName, or nslookup), so they are skipped:
#   - should be able to create a functioning NodePort service
#   - the four "should be able to change the type from X to Y" (ExternalName, ClusterIP, NodePort)
#   - the six "session affinity" specs (ClusterIP and NodePort)
# What they would add for a pod network, Service traffic through kube-proxy over mesh (ClusterIP
# from pods and nodes, NodePort, hostPort), is tested in test_k8s_pods.
FOCUS='\[sig-network\] Services .*\[Conformance\]'
SKIP='functioning NodePort service|change the type from|session affinity'
# shellcheck source=e2e.sh
source "$(dirname "$0")/e2e.sh"
run_e2e
