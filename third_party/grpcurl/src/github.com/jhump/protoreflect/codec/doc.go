// Package codec contains a reader/write type that assists with encoding
// and decoding protobuf's binary representation.
//
// The code in this package began as a fork of proto.Buffer but provides
// additional API to make it more useful to code that needs to dynamically
// process or produce the protobuf binary format.
package codec
