package onnx

import "github.com/palisade-sec/palisade/internal/scan/protowalk"

// Schemas of the onnx.proto messages the scanner walks (field numbers from
// the public onnx/onnx.proto, IR version 10).
var (
	modelSpec = protowalk.NewMessage("ModelProto", protowalk.Fields{
		1:  protowalk.Singular("ir_version", protowalk.Varint),
		2:  protowalk.Singular("producer_name", protowalk.Bytes),
		3:  protowalk.Singular("producer_version", protowalk.Bytes),
		4:  protowalk.Singular("domain", protowalk.Bytes),
		5:  protowalk.Singular("model_version", protowalk.Varint),
		6:  protowalk.Singular("doc_string", protowalk.Bytes),
		7:  protowalk.Singular("graph", protowalk.Bytes),
		8:  protowalk.Repeated("opset_import", protowalk.Bytes),
		14: protowalk.Repeated("metadata_props", protowalk.Bytes),
		20: protowalk.Repeated("training_info", protowalk.Bytes),
		25: protowalk.Repeated("functions", protowalk.Bytes),
		26: protowalk.Repeated("configuration", protowalk.Bytes),
	})
	opsetSpec = protowalk.NewMessage("OperatorSetIdProto", protowalk.Fields{
		1: protowalk.Singular("domain", protowalk.Bytes),
		2: protowalk.Singular("version", protowalk.Varint),
	})
	entrySpec = protowalk.NewMessage("StringStringEntryProto", protowalk.Fields{
		1: protowalk.Singular("key", protowalk.Bytes),
		2: protowalk.Singular("value", protowalk.Bytes),
	})
	trainingSpec = protowalk.NewMessage("TrainingInfoProto", protowalk.Fields{
		1: protowalk.Singular("initialization", protowalk.Bytes),
		2: protowalk.Singular("algorithm", protowalk.Bytes),
		3: protowalk.Repeated("initialization_binding", protowalk.Bytes),
		4: protowalk.Repeated("update_binding", protowalk.Bytes),
	})
	graphSpec = protowalk.NewMessage("GraphProto", protowalk.Fields{
		1:  protowalk.Repeated("node", protowalk.Bytes),
		2:  protowalk.Singular("name", protowalk.Bytes),
		5:  protowalk.Repeated("initializer", protowalk.Bytes),
		10: protowalk.Singular("doc_string", protowalk.Bytes),
		11: protowalk.Repeated("input", protowalk.Bytes),
		12: protowalk.Repeated("output", protowalk.Bytes),
		13: protowalk.Repeated("value_info", protowalk.Bytes),
		14: protowalk.Repeated("quantization_annotation", protowalk.Bytes),
		15: protowalk.Repeated("sparse_initializer", protowalk.Bytes),
		16: protowalk.Repeated("metadata_props", protowalk.Bytes),
	})
	nodeSpec = protowalk.NewMessage("NodeProto", protowalk.Fields{
		1:  protowalk.Repeated("input", protowalk.Bytes),
		2:  protowalk.Repeated("output", protowalk.Bytes),
		3:  protowalk.Singular("name", protowalk.Bytes),
		4:  protowalk.Singular("op_type", protowalk.Bytes),
		5:  protowalk.Repeated("attribute", protowalk.Bytes),
		6:  protowalk.Singular("doc_string", protowalk.Bytes),
		7:  protowalk.Singular("domain", protowalk.Bytes),
		8:  protowalk.Singular("overload", protowalk.Bytes),
		9:  protowalk.Repeated("metadata_props", protowalk.Bytes),
		10: protowalk.Repeated("device_configurations", protowalk.Bytes),
	})
	attributeSpec = protowalk.NewMessage("AttributeProto", protowalk.Fields{
		1:  protowalk.Singular("name", protowalk.Bytes),
		2:  protowalk.Singular("f", protowalk.Fixed32),
		3:  protowalk.Singular("i", protowalk.Varint),
		4:  protowalk.Singular("s", protowalk.Bytes),
		5:  protowalk.Singular("t", protowalk.Bytes),
		6:  protowalk.Singular("g", protowalk.Bytes),
		7:  protowalk.Repeated("floats", protowalk.Fixed32),
		8:  protowalk.Repeated("ints", protowalk.Varint),
		9:  protowalk.Repeated("strings", protowalk.Bytes),
		10: protowalk.Repeated("tensors", protowalk.Bytes),
		11: protowalk.Repeated("graphs", protowalk.Bytes),
		13: protowalk.Singular("doc_string", protowalk.Bytes),
		14: protowalk.Singular("tp", protowalk.Bytes),
		15: protowalk.Repeated("type_protos", protowalk.Bytes),
		20: protowalk.Singular("type", protowalk.Varint),
		21: protowalk.Singular("ref_attr_name", protowalk.Bytes),
		22: protowalk.Singular("sparse_tensor", protowalk.Bytes),
		23: protowalk.Repeated("sparse_tensors", protowalk.Bytes),
	})
	tensorSpec = protowalk.NewMessage("TensorProto", protowalk.Fields{
		1:  protowalk.Repeated("dims", protowalk.Varint),
		2:  protowalk.Singular("data_type", protowalk.Varint),
		3:  protowalk.Singular("segment", protowalk.Bytes),
		4:  protowalk.Repeated("float_data", protowalk.Fixed32),
		5:  protowalk.Repeated("int32_data", protowalk.Varint),
		6:  protowalk.Repeated("string_data", protowalk.Bytes),
		7:  protowalk.Repeated("int64_data", protowalk.Varint),
		8:  protowalk.Singular("name", protowalk.Bytes),
		9:  protowalk.Singular("raw_data", protowalk.Bytes),
		10: protowalk.Repeated("double_data", protowalk.Fixed64),
		11: protowalk.Repeated("uint64_data", protowalk.Varint),
		12: protowalk.Singular("doc_string", protowalk.Bytes),
		13: protowalk.Repeated("external_data", protowalk.Bytes),
		14: protowalk.Singular("data_location", protowalk.Varint),
		16: protowalk.Repeated("metadata_props", protowalk.Bytes),
	})
	sparseSpec = protowalk.NewMessage("SparseTensorProto", protowalk.Fields{
		1: protowalk.Singular("values", protowalk.Bytes),
		2: protowalk.Singular("indices", protowalk.Bytes),
		3: protowalk.Repeated("dims", protowalk.Varint),
	})
	functionSpec = protowalk.NewMessage("FunctionProto", protowalk.Fields{
		1:  protowalk.Singular("name", protowalk.Bytes),
		4:  protowalk.Repeated("input", protowalk.Bytes),
		5:  protowalk.Repeated("output", protowalk.Bytes),
		6:  protowalk.Repeated("attribute", protowalk.Bytes),
		7:  protowalk.Repeated("node", protowalk.Bytes),
		8:  protowalk.Singular("doc_string", protowalk.Bytes),
		9:  protowalk.Repeated("opset_import", protowalk.Bytes),
		10: protowalk.Singular("domain", protowalk.Bytes),
		11: protowalk.Repeated("attribute_proto", protowalk.Bytes),
		12: protowalk.Repeated("value_info", protowalk.Bytes),
		13: protowalk.Singular("overload", protowalk.Bytes),
		14: protowalk.Repeated("metadata_props", protowalk.Bytes),
	})
	valueInfoSpec = protowalk.NewMessage("ValueInfoProto", protowalk.Fields{
		1: protowalk.Singular("name", protowalk.Bytes),
		2: protowalk.Singular("type", protowalk.Bytes),
		3: protowalk.Singular("doc_string", protowalk.Bytes),
		4: protowalk.Repeated("metadata_props", protowalk.Bytes),
	})
)
