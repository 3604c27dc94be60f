package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Statement and predicate identifiers. PredicateType is the current (v1.0)
// format; LegacyPredicateType is the v0.1 format of signatures made by
// model_signing 0.2, which verifiers still accept.
const (
	StatementType       = intoto.StatementTypeUri
	PredicateType       = "https://model_signing/signature/v1.0"
	LegacyPredicateType = "https://model_signing/Digests/v0.1"
)

// statementRecursionLimit bounds the nesting protojson accepts while
// decoding a statement: the deepest legitimate value (a resource field)
// sits about a dozen messages down.
const statementRecursionLimit = 64

// Statement renders m as an in-toto statement with the v1.0 predicate:
// 2-space indent, no trailing newline, shard_size as an integer,
// ignore_paths sorted and omitted when empty. The subject digest is the
// root digest of m's resources in their current order.
func (m *Manifest) Statement() ([]byte, error) {
	root := m.RootDigest()
	ser := map[string]any{
		"method":         string(m.Serialization.Method),
		"hash_type":      string(m.Serialization.Hash),
		"allow_symlinks": m.Serialization.AllowSymlinks,
	}
	if m.Serialization.Method == Shards {
		ser["shard_size"] = float64(m.Serialization.ShardSize)
	}
	if len(m.Serialization.IgnorePaths) > 0 {
		ignores := make([]any, len(m.Serialization.IgnorePaths))
		for i, p := range m.Serialization.IgnorePaths {
			ignores[i] = p
		}
		ser["ignore_paths"] = ignores
	}
	serValue, err := structpb.NewStruct(ser)
	if err != nil {
		return nil, fmt.Errorf("encode serialization: %w", err)
	}
	resources := make([]*structpb.Value, len(m.Resources))
	for i, r := range m.Resources {
		resources[i] = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"name":      structpb.NewStringValue(r.Name()),
			"algorithm": structpb.NewStringValue(r.Algorithm),
			"digest":    structpb.NewStringValue(hex.EncodeToString(r.Digest)),
		}})
	}
	st := &intoto.Statement{
		Type: StatementType,
		Subject: []*intoto.ResourceDescriptor{{
			Name:   m.Name,
			Digest: map[string]string{"sha256": hex.EncodeToString(root[:])},
		}},
		PredicateType: PredicateType,
		Predicate: &structpb.Struct{Fields: map[string]*structpb.Value{
			"serialization": structpb.NewStructValue(serValue),
			"resources":     structpb.NewListValue(&structpb.ListValue{Values: resources}),
		}},
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("build statement: %w", err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	// protojson varies its whitespace on purpose; indent for a stable,
	// readable payload like the reference's.
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent statement: %w", err)
	}
	return out.Bytes(), nil
}

// ParseStatement decodes an in-toto statement carrying an OMS manifest,
// leniently as the format requires: unknown keys are ignored and
// shard_size may be an integer or an integral float. Both predicate
// versions are accepted. For v1.0 it checks that there is exactly one
// subject and that its sha256 digest is the root digest of the resources
// in the order given; the resources keep that order. A v0.1 statement has
// one subject per file and no root digest; its manifest is files/SHA-256
// with Legacy set. Errors wrap ErrMalformed or ErrRootDigest.
func ParseStatement(data []byte) (*Manifest, error) {
	var st intoto.Statement
	opts := protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: statementRecursionLimit}
	if err := opts.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// The in-toto package also accepts Statement/v0.1; OMS never used it.
	if st.GetType() != StatementType {
		return nil, fmt.Errorf("%w: _type is %q, want %q", ErrMalformed, st.GetType(), StatementType)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch st.GetPredicateType() {
	case PredicateType:
		return parseV1(&st)
	case LegacyPredicateType:
		return parseV01(&st)
	default:
		return nil, fmt.Errorf("%w: predicateType is %q, want %q or %q",
			ErrMalformed, st.GetPredicateType(), PredicateType, LegacyPredicateType)
	}
}

func parseV1(st *intoto.Statement) (*Manifest, error) {
	if len(st.GetSubject()) != 1 {
		return nil, fmt.Errorf("%w: %d subjects, want 1", ErrMalformed, len(st.GetSubject()))
	}
	pred := st.GetPredicate().GetFields()
	serStruct := pred["serialization"].GetStructValue()
	if serStruct == nil {
		return nil, fmt.Errorf("%w: predicate has no serialization object", ErrMalformed)
	}
	ser, err := parseSerialization(serStruct.GetFields())
	if err != nil {
		return nil, err
	}
	list := pred["resources"]
	if list == nil || list.GetListValue() == nil {
		return nil, fmt.Errorf("%w: predicate has no resources list", ErrMalformed)
	}
	values := list.GetListValue().GetValues()
	m := &Manifest{Name: st.GetSubject()[0].GetName(), Serialization: ser, Resources: make([]Resource, 0, len(values))}
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		fields := v.GetStructValue().GetFields()
		if fields == nil {
			return nil, fmt.Errorf("%w: resource %d is not an object", ErrMalformed, i)
		}
		r, err := parseResource(stringField(fields, "name"), stringField(fields, "algorithm"), stringField(fields, "digest"), ser)
		if err != nil {
			return nil, fmt.Errorf("%w: resource %d: %w", ErrMalformed, i, err)
		}
		if seen[r.Name()] {
			return nil, fmt.Errorf("%w: resource %q appears twice", ErrMalformed, r.Name())
		}
		seen[r.Name()] = true
		m.Resources = append(m.Resources, r)
	}
	want, err := hex.DecodeString(st.GetSubject()[0].GetDigest()["sha256"])
	if err != nil || len(want) != 32 {
		return nil, fmt.Errorf("%w: subject has no valid sha256 digest", ErrMalformed)
	}
	if root := m.RootDigest(); !bytes.Equal(root[:], want) {
		return nil, fmt.Errorf("%w: subject %x, resources %x", ErrRootDigest, want, root)
	}
	return m, nil
}

// parseV01 reads the v0.1 layout: one subject per file, named by its
// path, with its SHA-256 digest; the annotations and predicate carry
// nothing a verifier uses.
func parseV01(st *intoto.Statement) (*Manifest, error) {
	m := &Manifest{
		Serialization: Serialization{Method: Files, Hash: SHA256},
		Resources:     make([]Resource, 0, len(st.GetSubject())),
		Legacy:        true,
	}
	seen := make(map[string]bool, len(st.GetSubject()))
	for i, s := range st.GetSubject() {
		r, err := parseResource(s.GetName(), string(SHA256), s.GetDigest()["sha256"], m.Serialization)
		if err != nil {
			return nil, fmt.Errorf("%w: subject %d: %w", ErrMalformed, i, err)
		}
		if r.Path == "" || seen[r.Path] {
			return nil, fmt.Errorf("%w: subject %d has an empty or repeated name %q", ErrMalformed, i, r.Path)
		}
		if len(r.Digest) != 32 {
			return nil, fmt.Errorf("%w: subject %q has no SHA-256 digest", ErrMalformed, r.Path)
		}
		seen[r.Path] = true
		m.Resources = append(m.Resources, r)
	}
	return m, nil
}

func stringField(fields map[string]*structpb.Value, key string) string {
	return fields[key].GetStringValue()
}

func parseSerialization(fields map[string]*structpb.Value) (Serialization, error) {
	hashType := stringField(fields, "hash_type")
	h, err := ParseHash(hashType)
	if err != nil || hashType == "" {
		return Serialization{}, fmt.Errorf("%w: hash_type %q", ErrMalformed, hashType)
	}
	ser := Serialization{Hash: h, AllowSymlinks: fields["allow_symlinks"].GetBoolValue()}
	for _, v := range fields["ignore_paths"].GetListValue().GetValues() {
		s, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return Serialization{}, fmt.Errorf("%w: ignore_paths holds a non-string", ErrMalformed)
		}
		ser.IgnorePaths = append(ser.IgnorePaths, s.StringValue)
	}
	switch method := stringField(fields, "method"); Method(method) {
	case Files:
		ser.Method = Files
	case Shards:
		ser.Method = Shards
		size, ok := fields["shard_size"].GetKind().(*structpb.Value_NumberValue)
		if !ok {
			return Serialization{}, fmt.Errorf("%w: shards without a numeric shard_size", ErrMalformed)
		}
		f := size.NumberValue
		if f < 1 || f > 1<<53 || f != math.Trunc(f) {
			return Serialization{}, fmt.Errorf("%w: shard_size %v is not a positive integer", ErrMalformed, f)
		}
		ser.ShardSize = int64(f)
	default:
		return Serialization{}, fmt.Errorf("%w: method %q", ErrMalformed, method)
	}
	return ser, nil
}

func parseResource(name, algorithm, digest string, ser Serialization) (Resource, error) {
	d, err := hex.DecodeString(digest)
	if err != nil || len(d) == 0 {
		return Resource{}, fmt.Errorf("digest %q is not hex", clip(digest))
	}
	r := Resource{Path: name, Algorithm: algorithm, Digest: d}
	if ser.Method != Shards {
		return r, nil
	}
	// Parse from the right: the path itself may hold ':'.
	i := strings.LastIndexByte(name, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(name[:i], ':')
	}
	if j < 0 {
		return Resource{}, fmt.Errorf("shard name %q is not path:start:end", clip(name))
	}
	start, err1 := strconv.ParseInt(name[j+1:i], 10, 64)
	end, err2 := strconv.ParseInt(name[i+1:], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start ||
		strconv.FormatInt(start, 10) != name[j+1:i] || strconv.FormatInt(end, 10) != name[i+1:] {
		return Resource{}, fmt.Errorf("shard name %q has a bad range", clip(name))
	}
	r.Path, r.Start, r.End, r.Sharded = name[:j], start, end, true
	return r, nil
}

// clip shortens s for an error message, so that a hostile statement
// cannot make errors arbitrarily long.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
