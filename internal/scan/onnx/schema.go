package onnx

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// kind is the protobuf type class of a known field, which fixes its wire
// type.
type kind uint8

const (
	kindVarint  kind = iota + 1 // int32, int64, uint64, enum, bool
	kindFixed32                 // float
	kindFixed64                 // double
	kindBytes                   // string, bytes, message
)

func (k kind) wireType() protowire.Type {
	switch k {
	case kindFixed32:
		return protowire.Fixed32Type
	case kindFixed64:
		return protowire.Fixed64Type
	case kindBytes:
		return protowire.BytesType
	default:
		return protowire.VarintType
	}
}

// fieldSpec describes one field of a message as onnx.proto declares it.
type fieldSpec struct {
	name     string
	kind     kind
	repeated bool // a repeated scalar may also arrive packed (length-delimited)
}

// msgSpec is the schema of one message: its known fields by number. Fields
// not listed are skipped (forward compatibility), but a known field with the
// wrong wire type is malformed.
type msgSpec struct {
	name   string
	fields []fieldSpec // indexed by field number; a zero fieldSpec is unknown
}

func spec(name string, fields map[protowire.Number]fieldSpec) *msgSpec {
	hi := protowire.Number(0)
	for n := range fields {
		hi = max(hi, n)
	}
	m := &msgSpec{name: name, fields: make([]fieldSpec, hi+1)}
	for n, f := range fields {
		m.fields[n] = f
	}
	return m
}

// check validates f's wire type against the schema.
func (m *msgSpec) check(w *wireReader, f field) error {
	if int(f.num) >= len(m.fields) || m.fields[f.num].kind == 0 {
		return nil
	}
	fs := m.fields[f.num]
	want := fs.kind.wireType()
	if f.typ == want {
		return nil
	}
	if fs.repeated && fs.kind != kindBytes && f.typ == protowire.BytesType {
		return checkPacked(w, m, fs, f)
	}
	return &malformedError{off: f.off, msg: fmt.Sprintf("%s.%s (field %d) has wire type %s, want %s",
		m.name, fs.name, f.num, typeName(f.typ), typeName(want))}
}

// checkPacked validates the framing of a packed repeated scalar without
// reading its (possibly huge) payload: fixed-width elements must fill it
// exactly and the last varint must be complete.
func checkPacked(w *wireReader, m *msgSpec, fs fieldSpec, f field) error {
	bad := func(what string) error {
		return &malformedError{off: f.off, msg: fmt.Sprintf("%s.%s (field %d): packed payload of %d bytes %s", m.name, fs.name, f.num, f.n, what)}
	}
	switch fs.kind {
	case kindFixed32:
		if f.n%4 != 0 {
			return bad("is not a whole number of 4-byte values")
		}
	case kindFixed64:
		if f.n%8 != 0 {
			return bad("is not a whole number of 8-byte values")
		}
	default:
		if f.n == 0 {
			return nil
		}
		b, err := w.at(f.end-1, 1)
		if err != nil {
			return err
		}
		if b[0]&0x80 != 0 {
			return bad("ends inside a varint")
		}
	}
	return nil
}

func typeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("%d", t)
}

// Schemas of the onnx.proto messages the scanner walks (field numbers from
// the public onnx/onnx.proto, IR version 10).
var (
	modelSpec = spec("ModelProto", map[protowire.Number]fieldSpec{
		1:  {"ir_version", kindVarint, false},
		2:  {"producer_name", kindBytes, false},
		3:  {"producer_version", kindBytes, false},
		4:  {"domain", kindBytes, false},
		5:  {"model_version", kindVarint, false},
		6:  {"doc_string", kindBytes, false},
		7:  {"graph", kindBytes, false},
		8:  {"opset_import", kindBytes, true},
		14: {"metadata_props", kindBytes, true},
		20: {"training_info", kindBytes, true},
		25: {"functions", kindBytes, true},
		26: {"configuration", kindBytes, true},
	})
	opsetSpec = spec("OperatorSetIdProto", map[protowire.Number]fieldSpec{
		1: {"domain", kindBytes, false},
		2: {"version", kindVarint, false},
	})
	entrySpec = spec("StringStringEntryProto", map[protowire.Number]fieldSpec{
		1: {"key", kindBytes, false},
		2: {"value", kindBytes, false},
	})
	trainingSpec = spec("TrainingInfoProto", map[protowire.Number]fieldSpec{
		1: {"initialization", kindBytes, false},
		2: {"algorithm", kindBytes, false},
		3: {"initialization_binding", kindBytes, true},
		4: {"update_binding", kindBytes, true},
	})
	graphSpec = spec("GraphProto", map[protowire.Number]fieldSpec{
		1:  {"node", kindBytes, true},
		2:  {"name", kindBytes, false},
		5:  {"initializer", kindBytes, true},
		10: {"doc_string", kindBytes, false},
		11: {"input", kindBytes, true},
		12: {"output", kindBytes, true},
		13: {"value_info", kindBytes, true},
		14: {"quantization_annotation", kindBytes, true},
		15: {"sparse_initializer", kindBytes, true},
		16: {"metadata_props", kindBytes, true},
	})
	nodeSpec = spec("NodeProto", map[protowire.Number]fieldSpec{
		1:  {"input", kindBytes, true},
		2:  {"output", kindBytes, true},
		3:  {"name", kindBytes, false},
		4:  {"op_type", kindBytes, false},
		5:  {"attribute", kindBytes, true},
		6:  {"doc_string", kindBytes, false},
		7:  {"domain", kindBytes, false},
		8:  {"overload", kindBytes, false},
		9:  {"metadata_props", kindBytes, true},
		10: {"device_configurations", kindBytes, true},
	})
	attributeSpec = spec("AttributeProto", map[protowire.Number]fieldSpec{
		1:  {"name", kindBytes, false},
		2:  {"f", kindFixed32, false},
		3:  {"i", kindVarint, false},
		4:  {"s", kindBytes, false},
		5:  {"t", kindBytes, false},
		6:  {"g", kindBytes, false},
		7:  {"floats", kindFixed32, true},
		8:  {"ints", kindVarint, true},
		9:  {"strings", kindBytes, true},
		10: {"tensors", kindBytes, true},
		11: {"graphs", kindBytes, true},
		13: {"doc_string", kindBytes, false},
		14: {"tp", kindBytes, false},
		15: {"type_protos", kindBytes, true},
		20: {"type", kindVarint, false},
		21: {"ref_attr_name", kindBytes, false},
		22: {"sparse_tensor", kindBytes, false},
		23: {"sparse_tensors", kindBytes, true},
	})
	tensorSpec = spec("TensorProto", map[protowire.Number]fieldSpec{
		1:  {"dims", kindVarint, true},
		2:  {"data_type", kindVarint, false},
		3:  {"segment", kindBytes, false},
		4:  {"float_data", kindFixed32, true},
		5:  {"int32_data", kindVarint, true},
		6:  {"string_data", kindBytes, true},
		7:  {"int64_data", kindVarint, true},
		8:  {"name", kindBytes, false},
		9:  {"raw_data", kindBytes, false},
		10: {"double_data", kindFixed64, true},
		11: {"uint64_data", kindVarint, true},
		12: {"doc_string", kindBytes, false},
		13: {"external_data", kindBytes, true},
		14: {"data_location", kindVarint, false},
		16: {"metadata_props", kindBytes, true},
	})
	sparseSpec = spec("SparseTensorProto", map[protowire.Number]fieldSpec{
		1: {"values", kindBytes, false},
		2: {"indices", kindBytes, false},
		3: {"dims", kindVarint, true},
	})
	functionSpec = spec("FunctionProto", map[protowire.Number]fieldSpec{
		1:  {"name", kindBytes, false},
		4:  {"input", kindBytes, true},
		5:  {"output", kindBytes, true},
		6:  {"attribute", kindBytes, true},
		7:  {"node", kindBytes, true},
		8:  {"doc_string", kindBytes, false},
		9:  {"opset_import", kindBytes, true},
		10: {"domain", kindBytes, false},
		11: {"attribute_proto", kindBytes, true},
		12: {"value_info", kindBytes, true},
		13: {"overload", kindBytes, false},
		14: {"metadata_props", kindBytes, true},
	})
	valueInfoSpec = spec("ValueInfoProto", map[protowire.Number]fieldSpec{
		1: {"name", kindBytes, false},
		2: {"type", kindBytes, false},
		3: {"doc_string", kindBytes, false},
		4: {"metadata_props", kindBytes, true},
	})
)
