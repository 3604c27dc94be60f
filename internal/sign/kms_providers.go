//go:build kms

package sign

import (
	// KMS providers register their URI schemes with sigstore's KMS
	// registry. They pull in the cloud SDKs, so only builds with the kms
	// tag carry them.
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
)

// KMSProviders lists the KMS URI schemes compiled into this build.
var KMSProviders = []string{"awskms://", "azurekms://", "gcpkms://", "hashivault://"}
