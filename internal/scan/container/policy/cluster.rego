# Built-in rules over every Kubernetes object of a scan. Input: objects,
# each {kind, name, namespace, workload, file, line}. Findings carry the
# file and line they refer to.
package palisade.cluster

network_policy_kinds := {"NetworkPolicy", "CiliumNetworkPolicy"}

cluster_wide_kinds := {"CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}

covered contains o.namespace if {
	some o in input.objects
	o.kind in network_policy_kinds
}

cluster_wide if {
	some o in input.objects
	o.kind in cluster_wide_kinds
}

# METADATA
# title: namespace-without-network-policy
# description: The manifests put workloads in a namespace for which they define no NetworkPolicy, so every pod there accepts traffic from anywhere in the cluster.
# custom:
#   id: K8S010
#   severity: medium
#   remediation: Add a NetworkPolicy to the namespace that denies ingress by default, then allow only the traffic each workload needs.
deny contains f if {
	not cluster_wide
	namespaces := {o.namespace | some o in input.objects; o.workload}
	some ns in namespaces
	not covered[ns]
	first := min({[o.file, o.line, o.kind, o.name] |
		some o in input.objects
		o.workload
		o.namespace == ns
	})
	f := {
		"id": "K8S010", "file": first[0], "line": first[1],
		"message": sprintf("namespace %s has workloads (first: %s %s) but no NetworkPolicy in the scanned manifests", [ns, first[2], first[3]]),
	}
}
