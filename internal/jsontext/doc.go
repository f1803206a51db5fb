// Package jsontext is the service's hand-written JSON, kept where a case
// needs exactly encoding/json's bytes or acceptance without its reflection:
// the event codec, the request-body readers and the reply writer (httpapi)
// share it, so that each rule of the text is written once. Everything else
// uses encoding/json. (It is not encoding/json/jsontext.)
//
// Reading: a Scanner checks the text as it goes and hands out spans of it,
// so that a decoder reads what it needs in one pass without building
// values. It accepts the texts encoding/json accepts: the RFC 8259
// grammar, nesting at most MaxDepth deep, and inside strings any byte from
// 0x20 up, invalid UTF-8 included. Strings are unquoted as encoding/json
// unquotes them. What a value means is up to the caller.
//
// Writing: AppendString writes a string escaped as json.Marshal does
// (Marshal, for stored events) or as the API's replies are (NoHTML: <, >
// and & as they are); IsCompact tells whether json.Marshal leaves a JSON
// text as it is.
//
// Events: EncodeEvent and DecodeEvent write and read the JSON form of a
// stored event, a CloudEvents message (docs/events.md), byte for byte as
// the encoding/json codec they replaced (event_std_test.go). The event's
// subject is text to them: eventstore makes it from the owner, and checks
// and parses what DecodeEvent returns, with the rest of the stream's
// subjects.
package jsontext
