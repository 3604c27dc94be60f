package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Statement and predicate identifiers of the v1.0 format.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://model_signing/signature/v1.0"
)

type statementJSON struct {
	Type          string        `json:"_type"`
	Subject       []subjectJSON `json:"subject"`
	PredicateType string        `json:"predicateType"`
	Predicate     predicateJSON `json:"predicate"`
}

type subjectJSON struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type predicateJSON struct {
	Serialization serializationJSON `json:"serialization"`
	Resources     []resourceJSON    `json:"resources"`
}

type serializationJSON struct {
	Method        string       `json:"method"`
	HashType      string       `json:"hash_type"`
	AllowSymlinks bool         `json:"allow_symlinks"`
	ShardSize     *json.Number `json:"shard_size,omitempty"`
	IgnorePaths   []string     `json:"ignore_paths,omitempty"`
}

type resourceJSON struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// Statement renders m as an in-toto statement with the v1.0 predicate:
// 2-space indent, no trailing newline, shard_size as an integer,
// ignore_paths sorted and omitted when empty. The subject digest is the
// root digest of m's resources in their current order.
func (m *Manifest) Statement() ([]byte, error) {
	root := m.RootDigest()
	s := statementJSON{
		Type:          StatementType,
		Subject:       []subjectJSON{{Name: m.Name, Digest: map[string]string{"sha256": hex.EncodeToString(root[:])}}},
		PredicateType: PredicateType,
		Predicate: predicateJSON{
			Serialization: serializationJSON{
				Method:        string(m.Serialization.Method),
				HashType:      string(m.Serialization.Hash),
				AllowSymlinks: m.Serialization.AllowSymlinks,
				IgnorePaths:   m.Serialization.IgnorePaths,
			},
			Resources: make([]resourceJSON, 0, len(m.Resources)),
		},
	}
	if m.Serialization.Method == Shards {
		n := json.Number(strconv.FormatInt(m.Serialization.ShardSize, 10))
		s.Predicate.Serialization.ShardSize = &n
	}
	for _, r := range m.Resources {
		s.Predicate.Resources = append(s.Predicate.Resources, resourceJSON{
			Name: r.Name(), Algorithm: r.Algorithm, Digest: hex.EncodeToString(r.Digest),
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseStatement decodes an in-toto statement with the v1.0 predicate,
// leniently as the format requires (unknown keys ignored, shard_size as an
// integer or an integral float). It checks the statement and predicate
// types, that there is exactly one subject, and that the subject's sha256
// digest is the root digest of the resources in the order given; the
// resources keep that order. Errors wrap ErrMalformed or ErrRootDigest.
func ParseStatement(data []byte) (*Manifest, error) {
	var s statementJSON
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if s.Type != StatementType {
		return nil, fmt.Errorf("%w: _type is %q, want %q", ErrMalformed, s.Type, StatementType)
	}
	if s.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicateType is %q, want %q", ErrMalformed, s.PredicateType, PredicateType)
	}
	if len(s.Subject) != 1 {
		return nil, fmt.Errorf("%w: %d subjects, want 1", ErrMalformed, len(s.Subject))
	}
	ser, err := parseSerialization(s.Predicate.Serialization)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Name: s.Subject[0].Name, Serialization: ser, Resources: make([]Resource, 0, len(s.Predicate.Resources))}
	seen := make(map[string]bool, len(s.Predicate.Resources))
	for i, rj := range s.Predicate.Resources {
		r, err := parseResource(rj, ser)
		if err != nil {
			return nil, fmt.Errorf("%w: resource %d: %w", ErrMalformed, i, err)
		}
		if seen[r.Name()] {
			return nil, fmt.Errorf("%w: resource %q appears twice", ErrMalformed, r.Name())
		}
		seen[r.Name()] = true
		m.Resources = append(m.Resources, r)
	}
	want, err := hex.DecodeString(s.Subject[0].Digest["sha256"])
	if err != nil || len(want) != 32 {
		return nil, fmt.Errorf("%w: subject has no valid sha256 digest", ErrMalformed)
	}
	if root := m.RootDigest(); !bytes.Equal(root[:], want) {
		return nil, fmt.Errorf("%w: subject %x, resources %x", ErrRootDigest, want, root)
	}
	return m, nil
}

func parseSerialization(sj serializationJSON) (Serialization, error) {
	h, err := ParseHash(sj.HashType)
	if err != nil || sj.HashType == "" {
		return Serialization{}, fmt.Errorf("%w: hash_type %q", ErrMalformed, sj.HashType)
	}
	ser := Serialization{Hash: h, AllowSymlinks: sj.AllowSymlinks, IgnorePaths: sj.IgnorePaths}
	switch Method(sj.Method) {
	case Files:
		ser.Method = Files
	case Shards:
		ser.Method = Shards
		if sj.ShardSize == nil {
			return Serialization{}, fmt.Errorf("%w: shards without shard_size", ErrMalformed)
		}
		f, err := strconv.ParseFloat(string(*sj.ShardSize), 64)
		if err != nil || f < 1 || f > 1<<53 || f != math.Trunc(f) {
			return Serialization{}, fmt.Errorf("%w: shard_size %s is not a positive integer", ErrMalformed, *sj.ShardSize)
		}
		ser.ShardSize = int64(f)
	default:
		return Serialization{}, fmt.Errorf("%w: method %q", ErrMalformed, sj.Method)
	}
	return ser, nil
}

func parseResource(rj resourceJSON, ser Serialization) (Resource, error) {
	d, err := hex.DecodeString(rj.Digest)
	if err != nil || len(d) == 0 {
		return Resource{}, fmt.Errorf("digest %q is not hex", rj.Digest)
	}
	r := Resource{Path: rj.Name, Algorithm: rj.Algorithm, Digest: d}
	if ser.Method != Shards {
		return r, nil
	}
	// Parse from the right: the path itself may hold ':'.
	i := strings.LastIndexByte(rj.Name, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(rj.Name[:i], ':')
	}
	if j < 0 {
		return Resource{}, fmt.Errorf("shard name %q is not path:start:end", rj.Name)
	}
	start, err1 := strconv.ParseInt(rj.Name[j+1:i], 10, 64)
	end, err2 := strconv.ParseInt(rj.Name[i+1:], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start ||
		strconv.FormatInt(start, 10) != rj.Name[j+1:i] || strconv.FormatInt(end, 10) != rj.Name[i+1:] {
		return Resource{}, fmt.Errorf("shard name %q has a bad range", rj.Name)
	}
	r.Path, r.Start, r.End, r.Sharded = rj.Name[:j], start, end, true
	return r, nil
}
