# Built-in Kubernetes rules. Input: the objects of one YAML file, each
# {index, doc, line, kind, name, namespace, workload, pod_spec_path,
# object}. Findings name the object (its index) and a dotted path inside
# it; the scanner turns the path into a line.
package palisade.kubernetes

# pods holds [object, pod spec, dotted path of the pod spec] for every
# workload.
pods contains [o, spec, concat(".", o.pod_spec_path)] if {
	some o in input.objects
	o.workload
	spec := object.get(o.object, o.pod_spec_path, null)
	is_object(spec)
}

# containers holds [object, pod spec, container, dotted path of the
# container] for every container, init container and ephemeral container.
containers contains [o, spec, c, sprintf("%s.%s[%d]", [base, field, i])] if {
	some [o, spec, base] in pods
	some field in ["containers", "initContainers", "ephemeralContainers"]
	some i, c in spec[field]
	is_object(c)
}

label(o, c) := sprintf("%s %s, container %s", [o.kind, name(o), object.get(c, "name", "?")])

name(o) := o.name if {
	o.name != ""
} else := "(unnamed)"

# METADATA
# title: privileged-container
# description: A container runs privileged, with every capability and access to the host's devices, so a compromise of the container is a compromise of the node.
# custom:
#   id: K8S001
#   severity: high
#   remediation: Remove securityContext.privileged (or set it to false) and grant only the specific capabilities or device plugins the workload needs.
deny contains f if {
	some [o, _, c, path] in containers
	c.securityContext.privileged == true
	f := {
		"id": "K8S001", "object": o.index, "path": sprintf("%s.securityContext.privileged", [path]),
		"message": sprintf("%s runs privileged", [label(o, c)]),
	}
}

# METADATA
# title: privilege-escalation-allowed
# description: A container does not set allowPrivilegeEscalation to false, so its processes can gain more privileges than their parent (setuid binaries, file capabilities).
# custom:
#   id: K8S002
#   severity: medium
#   remediation: Set securityContext.allowPrivilegeEscalation to false on every container.
deny contains f if {
	some [o, _, c, path] in containers
	not c.securityContext.allowPrivilegeEscalation == false
	f := {
		"id": "K8S002", "object": o.index, "path": sprintf("%s.securityContext.allowPrivilegeEscalation", [path]),
		"message": sprintf("%s does not set allowPrivilegeEscalation: false", [label(o, c)]),
	}
}

# effective returns a securityContext field of a container, falling back
# to the pod's.
effective(spec, c, field) := v if {
	v := c.securityContext[field]
} else := spec.securityContext[field]

# Helpers for negation: OPA evaluates a function call inside "not" before
# the negation, so an undefined result would make the whole rule fail.
non_root_enforced(spec, c) if effective(spec, c, "runAsNonRoot") == true

user_set(spec, c) if effective(spec, c, "runAsUser")

# run_as_user_path points at the runAsUser in force: the container's, or
# else the pod's.
run_as_user_path(o, c, path) := sprintf("%s.securityContext.runAsUser", [path]) if {
	c.securityContext.runAsUser
} else := sprintf("%s.securityContext.runAsUser", [concat(".", o.pod_spec_path)])

# METADATA
# title: runs-as-root
# description: A container is configured to run as UID 0 (runAsUser 0 on the container or its pod).
# custom:
#   id: K8S003
#   severity: high
#   remediation: Run as a non-zero UID (securityContext.runAsUser) that the image supports, and set runAsNonRoot to true.
deny contains f if {
	some [o, spec, c, path] in containers
	effective(spec, c, "runAsUser") == 0
	f := {
		"id": "K8S003", "object": o.index, "path": run_as_user_path(o, c, path),
		"message": sprintf("%s runs as root (runAsUser 0)", [label(o, c)]),
	}
}

# METADATA
# title: run-as-non-root-not-enforced
# description: Neither the container nor its pod sets runAsNonRoot to true or a non-zero runAsUser, so the container runs as root whenever its image does.
# custom:
#   id: K8S004
#   severity: medium
#   remediation: Set securityContext.runAsNonRoot to true (pod or container level) and, if the image has no non-root user, a non-zero runAsUser.
deny contains f if {
	some [o, spec, c, path] in containers
	not non_root_enforced(spec, c)
	not user_set(spec, c)
	f := {
		"id": "K8S004", "object": o.index, "path": sprintf("%s.securityContext", [path]),
		"message": sprintf("%s may run as root: runAsNonRoot is not true and no runAsUser is set", [label(o, c)]),
	}
}

# METADATA
# title: host-path-volume
# description: A pod mounts a hostPath volume, giving it the node's files (container runtime sockets, credentials, other pods' data).
# custom:
#   id: K8S005
#   severity: high
#   remediation: Replace hostPath with a persistentVolumeClaim, configMap, secret or emptyDir volume; if host access is unavoidable, mount it read-only and restrict the path.
deny contains f if {
	some [o, spec, base] in pods
	some i, v in spec.volumes
	v.hostPath
	f := {
		"id": "K8S005", "object": o.index, "path": sprintf("%s.volumes[%d].hostPath", [base, i]),
		"message": sprintf("%s %s mounts host path %s", [o.kind, name(o), object.get(v.hostPath, "path", "?")]),
	}
}

# METADATA
# title: host-namespace
# description: A pod shares the node's network, process or IPC namespace (hostNetwork, hostPID, hostIPC), so it can see and reach the host's traffic, processes or shared memory.
# custom:
#   id: K8S006
#   severity: high
#   remediation: Remove hostNetwork, hostPID and hostIPC from the pod spec; expose ports through a Service instead of the host network.
deny contains f if {
	some [o, spec, base] in pods
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	spec[field] == true
	f := {
		"id": "K8S006", "object": o.index, "path": sprintf("%s.%s", [base, field]),
		"message": sprintf("%s %s sets %s: true", [o.kind, name(o), field]),
	}
}

# METADATA
# title: missing-resource-limits
# description: A container sets no CPU or no memory limit, so one workload can starve the others on its node.
# custom:
#   id: K8S007
#   severity: low
#   remediation: Set resources.limits.cpu and resources.limits.memory on every container (and matching requests), or enforce defaults with a LimitRange.
deny contains f if {
	some [o, _, c, path] in containers
	not contains(path, ".ephemeralContainers[")
	missing := [r | some r in ["cpu", "memory"]; not c.resources.limits[r]]
	count(missing) > 0
	f := {
		"id": "K8S007", "object": o.index, "path": sprintf("%s.resources", [path]),
		"message": sprintf("%s has no %s limit", [label(o, c), concat(" or ", missing)]),
	}
}

# gpu_resource is an accelerator extended resource (nvidia.com/gpu,
# amd.com/gpu, gpu.intel.com/i915, nvidia.com/mig-...).
gpu_resource(r) if regex.match(`(^|[./])gpu([./]|$)|nvidia\.com/mig-|gpu\.intel\.com/`, r)

# METADATA
# title: gpu-request-without-limit
# description: A container requests a GPU (nvidia.com/gpu and other accelerator resources) without a matching limit, which the scheduler rejects or treats inconsistently.
# custom:
#   id: K8S008
#   severity: medium
#   remediation: Set resources.limits for the accelerator to the same value as the request (extended resources cannot be overcommitted).
deny contains f if {
	some [o, _, c, path] in containers
	some r, _ in c.resources.requests
	gpu_resource(r)
	not c.resources.limits[r]
	f := {
		"id": "K8S008", "object": o.index, "path": sprintf("%s.resources.requests", [path]),
		"message": sprintf("%s requests %s without a limit", [label(o, c), r]),
	}
}

# METADATA
# title: service-account-token-automount
# description: A pod does not set automountServiceAccountToken to false, so every container gets an API token that an attacker inside it can use against the cluster.
# custom:
#   id: K8S009
#   severity: low
#   remediation: Set automountServiceAccountToken to false in the pod spec (or on its ServiceAccount) unless the workload calls the Kubernetes API.
deny contains f if {
	some [o, spec, base] in pods
	not spec.automountServiceAccountToken == false
	f := {
		"id": "K8S009", "object": o.index, "path": base,
		"message": sprintf("%s %s mounts a service-account token automatically", [o.kind, name(o)]),
	}
}
