# An organisation's extra Dockerfile rule: every image declares an owner.
package palisade.docker

# METADATA
# title: owner-label-missing
# description: The image has no org.opencontainers.image.authors label naming its owner.
# custom:
#   id: ORG001
#   severity: low
#   remediation: Add LABEL org.opencontainers.image.authors="team@example.com".
findings contains f if {
	not has_owner
	f := {"id": "ORG001", "message": "no owner label", "line": final.line}
}

has_owner if {
	some st in input.stages
	some ins in st.instructions
	ins.cmd == "label"
	some p in ins.pairs
	p.key == "org.opencontainers.image.authors"
}
