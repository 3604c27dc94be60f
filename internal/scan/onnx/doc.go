// Package onnx scans ONNX models (ModelProto protobuf) for constructs that
// make loading or running them unsafe.
//
// The model is decoded as protobuf wire format with protowalk, field by
// field, through a bounded window of the object: raw tensor payloads are
// skipped by offset and never read, so a multi-gigabyte model is walked in
// constant memory. Every ModelProto, GraphProto (including subgraphs in
// If/Loop/Scan attributes and training graphs), NodeProto, AttributeProto,
// FunctionProto, TensorProto and SparseTensorProto is visited, with message
// nesting bounded by maxDepth.
//
// Threats: a tensor's external_data location that reaches outside the model
// directory (absolute paths, '..' traversal, symbolic and hard links:
// CVE-2022-25882, CVE-2024-27318, CVE-2026-27489, CVE-2026-34446), a
// location holding ONNX Runtime's in-memory sentinel */_ORT_MEM_ADDR_/*
// (its offset is taken for a raw pointer; never legitimate in a file), and
// operators from non-standard domains, which runtimes execute with native
// code from custom-op libraries. Malformed protobuf is reported (fail
// closed); an object routed here only by a weak guess that is not ONNX is
// ignored. Nothing in the model is executed, and external-data files are
// only inspected with lstat, never read.
package onnx
