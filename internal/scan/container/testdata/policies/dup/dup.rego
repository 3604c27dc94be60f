package palisade.docker

# METADATA
# title: runs-as-root-again
# description: Reuses a built-in ID.
# custom:
#   id: DKR001
#   severity: low
#   remediation: None.
deny contains {"id": "DKR001", "message": "x"} if false
