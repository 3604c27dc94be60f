package sign

import (
	"context"
	"fmt"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// VerifyOptions say how to re-hash the model.
type VerifyOptions struct {
	// Manifest carries the local ignore paths, the signature file (ignored
	// when inside the model), AllowEscapingSymlinks and Workers; the
	// serialization itself comes from the signed statement.
	Manifest manifest.Options
	// IgnoreUnsignedFiles hashes only the files the signature names, so
	// that extra local files are tolerated; missing or changed ones still
	// fail.
	IgnoreUnsignedFiles bool
}

// Verified is the outcome of a successful Verify.
type Verified struct {
	Manifest *manifest.Manifest // the signed manifest
	Signer   string             // who signed, for people
	Warnings []string
}

// Verify decodes the signature file sigData, checks its signature with v,
// reads the signed statement (v1.0 or the legacy v0.1) and re-hashes the
// model at modelPath the way the statement says. A model that differs
// yields a *manifest.MismatchError naming the extra, missing and changed
// files.
func Verify(ctx context.Context, modelPath string, sigData []byte, v Verifier, opts VerifyOptions) (*Verified, error) {
	env, err := ParseEnvelope(sigData)
	if err != nil {
		return nil, err
	}
	signer, warnings, err := v.Verify(ctx, env)
	if err != nil {
		return nil, err
	}
	want, err := manifest.ParseStatement(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("signed statement: %w", err)
	}
	mopts := opts.Manifest
	if opts.IgnoreUnsignedFiles {
		unsigned, err := manifest.UnsignedPaths(ctx, modelPath, want)
		if err != nil {
			return nil, err
		}
		mopts.IgnorePaths = append(append([]string(nil), mopts.IgnorePaths...), unsigned...)
	}
	if err := manifest.Verify(ctx, modelPath, want, mopts); err != nil {
		return nil, err
	}
	return &Verified{Manifest: want, Signer: signer, Warnings: warnings}, nil
}
