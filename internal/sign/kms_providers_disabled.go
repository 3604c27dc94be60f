//go:build !kms

package sign

// KMSProviders lists the KMS URI schemes compiled into this build: none
// without the kms build tag (go build -tags kms ./cmd/palisade), which
// keeps the cloud SDKs out of the default binary.
var KMSProviders = []string{}
