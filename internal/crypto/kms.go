//go:build kms

package crypto

// The cloud key management services, compiled in with -tags kms ('make
// build-kms'): their gocloud.dev/secrets drivers register the awskms://,
// gcpkms://, azurekeyvault:// and hashivault:// schemes with OpenKeeper.
// Credentials come from each provider's usual environment (AWS profile or
// role, Google application default credentials, Azure identity,
// VAULT_ADDR and VAULT_TOKEN), never from the URL.
import (
	_ "gocloud.dev/secrets/awskms"
	_ "gocloud.dev/secrets/azurekeyvault"
	_ "gocloud.dev/secrets/gcpkms"
	_ "gocloud.dev/secrets/hashivault"
)
