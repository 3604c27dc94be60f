package sign

import (
	"bytes"
	"encoding/json"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// BundleMediaType is the media type of every OMS signature file; the
// reference's key and certificate verifiers accept no other.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// MaxSignatureSize bounds a signature file. A manifest of 1 GB shards
// stays in kilobytes; a model of millions of files or tiny shards can
// reach hundreds of megabytes.
const MaxSignatureSize = 512 << 20

// bundleRecursionLimit bounds message nesting while decoding a bundle
// (the deepest legitimate field is about six messages down).
const bundleRecursionLimit = 32

// Envelope is a decoded signature file: the bundle and what verification
// needs from it.
type Envelope struct {
	Bundle    *protobundle.Bundle
	Payload   []byte // the signed statement, exactly as signed
	Signature []byte // DER ECDSA (or what the method produced)
	// LegacyKey holds the PEM of the public key that model_signing
	// 0.3-1.0 wrote into verificationMaterial.publicKey.rawBytes, a field
	// the bundle schema does not have; nil otherwise.
	LegacyKey []byte
}

// ParseEnvelope decodes a signature file leniently (unknown fields, such
// as legacy key material, are dropped; keyid may be "", null or absent)
// and checks what every method needs: the v0.3 media type, a DSSE
// envelope with the in-toto payload type and exactly one signature.
// Errors wrap ErrBundle.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > MaxSignatureSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d-byte limit", ErrBundle, len(data), MaxSignatureSize)
	}
	var b protobundle.Bundle
	opts := protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: bundleRecursionLimit}
	if err := opts.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%w: not a Sigstore bundle: %w", ErrBundle, err)
	}
	if b.GetMediaType() != BundleMediaType {
		return nil, fmt.Errorf("%w: mediaType is %q, want %q", ErrBundle, clip(b.GetMediaType()), BundleMediaType)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, fmt.Errorf("%w: no dsseEnvelope (model signatures sign an in-toto statement)", ErrBundle)
	}
	if env.GetPayloadType() != PayloadType {
		return nil, fmt.Errorf("%w: payloadType is %q, want %q", ErrBundle, clip(env.GetPayloadType()), PayloadType)
	}
	if n := len(env.GetSignatures()); n != 1 {
		return nil, fmt.Errorf("%w: %d signatures in the envelope, want exactly 1", ErrBundle, n)
	}
	if b.GetVerificationMaterial() == nil {
		return nil, fmt.Errorf("%w: no verificationMaterial", ErrBundle)
	}
	out := &Envelope{Bundle: &b, Payload: env.GetPayload(), Signature: env.GetSignatures()[0].GetSig()}
	if len(out.Signature) == 0 {
		return nil, fmt.Errorf("%w: the envelope signature is empty", ErrBundle)
	}
	if b.GetVerificationMaterial().GetPublicKey() != nil {
		out.LegacyKey = legacyKeyBytes(data)
	}
	return out, nil
}

// legacyKeyBytes reads verificationMaterial.publicKey.rawBytes, which the
// protobuf schema drops.
func legacyKeyBytes(data []byte) []byte {
	var probe struct {
		VerificationMaterial struct {
			PublicKey struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return nil
	}
	return probe.VerificationMaterial.PublicKey.RawBytes
}

// encodeBundle renders a DSSE bundle in the shape the reference 1.1
// writes: compact JSON, empty tlogEntries list and empty keyid present.
func encodeBundle(material *protobundle.VerificationMaterial, payload, sig []byte) ([]byte, error) {
	b := &protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: material,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig, Keyid: ""}},
		}},
	}
	raw, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	// protojson varies whitespace on purpose; compact for stable output.
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, fmt.Errorf("compact bundle: %w", err)
	}
	return out.Bytes(), nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
