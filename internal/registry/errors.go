package registry

import (
	"encoding/json"
	"net/http"
)

// Error codes of the distribution spec.
const (
	codeBlobUnknown         = "BLOB_UNKNOWN"
	codeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	codeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	codeDigestInvalid       = "DIGEST_INVALID"
	codeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	codeManifestInvalid     = "MANIFEST_INVALID"
	codeManifestUnknown     = "MANIFEST_UNKNOWN"
	codeNameInvalid         = "NAME_INVALID"
	codeNameUnknown         = "NAME_UNKNOWN"
	codeSizeInvalid         = "SIZE_INVALID"
	codeUnauthorized        = "UNAUTHORIZED"
	codeDenied              = "DENIED"
	codeUnsupported         = "UNSUPPORTED"
	codeTooManyRequests     = "TOOMANYREQUESTS"
	// codeUnknown is not in the spec; clients show its message.
	codeUnknown = "UNKNOWN"
)

// apiError is one entry of the spec's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError sends the spec's error body with one error. The message is
// written for people: it names the problem and, where there is one, the
// fix. It never holds secrets.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorDetail(w, status, code, msg, nil)
}

// writeErrorDetail is writeError with the spec's detail member, for what
// a client acts on beyond the code.
func writeErrorDetail(w http.ResponseWriter, status int, code, msg string, detail any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors []apiError `json:"errors"`
	}{[]apiError{{Code: code, Message: msg, Detail: detail}}})
}

// QuotaDetail is the detail of a DENIED error that a project quota caused
// (Reason "quota_exceeded"), so that clients tell it from a denial.
type QuotaDetail struct {
	Reason string `json:"reason"`
	Quota  string `json:"quota"` // storage or artifacts
	Limit  int64  `json:"limit"`
	Usage  int64  `json:"usage"`
	Adding int64  `json:"adding,omitempty"`
}

// QuotaExceeded is QuotaDetail's Reason.
const QuotaExceeded = "quota_exceeded"
