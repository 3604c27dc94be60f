# Images must come from the organisation's registry.
package palisade.kubernetes

# METADATA
# title: untrusted-registry
# description: A container image does not come from registry.example.com.
# custom:
#   id: ORG002
#   severity: high
#   remediation: Mirror the image into registry.example.com and reference it there.
deny contains f if {
	some [o, _, c, path] in containers
	not startswith(c.image, "registry.example.com/")
	f := {"id": "ORG002", "object": o.index, "path": sprintf("%s.image", [path]), "message": sprintf("image %s is not from the trusted registry", [c.image]), "severity": "critical"}
}
