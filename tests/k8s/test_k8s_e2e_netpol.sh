#!/usr/bin/env bash
# test_k8s_e2e_netpol: Kubernetes' own NetworkPolicy specs (`[sig-network] NetworkPolicy`,
# upstream e2e.test 1.20.2) against mesh's enforcement. Skipped: the SCTP specs (this kernel
# cannot load `sctp`, so no SCTP socket exists in the pods to test with) and those marked
# [Feature:UDP] (none in 1.20's NetworkPolicy suite; kept as the issue names it).
FOCUS='\[sig-network\] NetworkPolicy'
SKIP='SCTP|Feature:UDP'
# shellcheck source=e2e.sh
source "$(dirname "$0")/e2e.sh"
run_e2e
