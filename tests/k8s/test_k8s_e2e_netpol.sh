#!/usr/bin/env bash
# test_k8s_e2e_netpol: Kubernetes' own NetworkPolicy specs (`[sig-network] NetworkPolicy`,
# upstream e2e.test 1.20.2) against mesh's enforcement.
#
# The whole suite (30 specs, about 50 minutes here: a spec that checks a connection is refused
# waits out 5 tries of 8 s) is too long for CI; CI runs a subset that covers each kind of rule:
# default deny, pod and namespace selectors together, a named port (egress; an ingress named
# port and ipBlock with except are in test_k8s_netpol), policyTypes Ingress and Egress
# together. MESH_K8S_NETPOL_FULL=1 runs the whole suite (the command
# the issue names: scripts/k8s-lab e2e NetworkPolicy 'SCTP|Feature:UDP').
# Skipped always: the SCTP specs (this kernel cannot load `sctp`, so the pods have no SCTP
# socket to test with) and [Feature:UDP] (none in 1.20's NetworkPolicy suite).
if [[ ${MESH_K8S_NETPOL_FULL:-0} == 1 ]]; then
	FOCUS='\[sig-network\] NetworkPolicy'
else
	FOCUS='\[sig-network\] NetworkPolicy .*(default-deny-ingress|should enforce policy based on PodSelector and NamespaceSelector .Feature|allow egress access on one named port|Ingress,Egress specified together)'
fi
SKIP='SCTP|Feature:UDP'
# shellcheck source=e2e.sh
source "$(dirname "$0")/e2e.sh"
run_e2e
