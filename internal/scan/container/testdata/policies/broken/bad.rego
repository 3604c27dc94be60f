package palisade.docker

# METADATA
# title: broken
# description: Broken on purpose.
# custom:
#   id: BRK001
#   severity: low
#   remediation: None.
deny contains f if {
	f := {"id": "BRK001", "message": concat(", ", input.nothing
}
