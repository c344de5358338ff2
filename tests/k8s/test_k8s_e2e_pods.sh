#!/usr/bin/env bash
# test_k8s_e2e_pods: Kubernetes' own sig-network conformance checks for a pod network,
# `[sig-network] Networking Granular Checks: Pods` (intra-node and inter-node pod-to-pod HTTP
# and UDP, from the upstream e2e.test 1.20.2), on mesh. SCTP is skipped: the specs need the
# kernel's sctp module in the nodes, which this machine cannot load, and mesh-cni has no part
# in it.
FOCUS='\[sig-network\] Networking Granular Checks: Pods'
SKIP='SCTP'
# shellcheck source=e2e.sh
source "$(dirname "$0")/e2e.sh"
run_e2e
