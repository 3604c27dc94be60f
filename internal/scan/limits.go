package scan

import "fmt"

// Limits bound the work one top-level file may cause. They protect the
// scanner from archive bombs, deep nesting and hostile length fields; when
// one is reached the scan stops descending and reports a finding.
type Limits struct {
	MaxDepth         int     // nesting depth of archives and embedded payloads below the top-level file
	MaxEntries       int     // archive members and embedded payloads inspected under one top-level file
	MaxExpandedBytes int64   // bytes produced by decompression under one top-level file
	MaxMemberBytes   int64   // bytes produced by decompressing one member or stream
	MaxRatio         float64 // largest decompressed/compressed ratio accepted once an output passes RatioFloor
	RatioFloor       int64   // output size below which the ratio is not judged (small files compress well)
	MaxHeaderBytes   int64   // largest structured header (safetensors JSON, GGUF metadata, configs) read into memory
	MemoryBuffer     int64   // expanded members up to this size stay in memory; larger ones spill to a temporary file
}

// DefaultLimits returns limits that accept any real model repository on
// the machines Palisade targets while stopping bombs early.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:         8,
		MaxEntries:       100_000,
		MaxExpandedBytes: 64 << 30,
		MaxMemberBytes:   32 << 30,
		MaxRatio:         200,
		RatioFloor:       16 << 20,
		MaxHeaderBytes:   100 << 20,
		MemoryBuffer:     8 << 20,
	}
}

// withDefaults returns l with zero fields replaced by the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxExpandedBytes <= 0 {
		l.MaxExpandedBytes = d.MaxExpandedBytes
	}
	if l.MaxMemberBytes <= 0 {
		l.MaxMemberBytes = d.MaxMemberBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = d.RatioFloor
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MemoryBuffer <= 0 {
		l.MemoryBuffer = d.MemoryBuffer
	}
	return l
}

// LimitError reports that a limit stopped the scan of an object. The
// session has already turned it into a finding; scanners that receive one
// stop descending and return nil or the error unchanged.
type LimitError struct {
	What  string // which limit, e.g. "nesting depth"
	Limit int64
	Got   int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s limit reached (%d > %d)", e.What, e.Got, e.Limit)
}
