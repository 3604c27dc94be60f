package palisade.docker

# METADATA
# title: no-remediation
# description: Declares no remediation.
# custom:
#   id: BRK002
#   severity: low
deny contains {"id": "BRK002", "message": "x"} if false
