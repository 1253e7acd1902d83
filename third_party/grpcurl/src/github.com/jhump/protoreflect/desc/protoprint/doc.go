// Package protoprint provides a mechanism to generate protobuf source code
// from descriptors.
//
// This can be useful to turn file descriptor sets (produced by protoc) back
// into proto IDL code. Combined with the protoreflect/builder package, it can
// also be used to perform code generation of proto source code.
package protoprint
