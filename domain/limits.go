package domain

import "encoding/json"

// The limits every reader and writer of attribute values agrees on, so
// that whatever the API accepts is stored as an event that every reader
// decodes again (docs/events.md#signatures): the request decoder reads
// bodies, and the event decoder stored events, up to MaxJSONDepth; an
// accepted value nests at most MaxValueDepth deep, and sits EventValueDepth
// levels down in its event (and fewer in a request body), so an event
// holding it is always well within MaxJSONDepth.
const (
	// MaxJSONDepth is how deeply any JSON text the service reads may nest
	// (encoding/json's own limit): request bodies and stored events.
	MaxJSONDepth = 10000
	// MaxValueDepth is how deeply an attribute value's arrays and objects
	// may nest. A deeper value is ErrInvalidInput.
	MaxValueDepth = 512
	// EventValueDepth is how many arrays and objects enclose an attribute
	// value in its event: the envelope, its data, the attrs list, the
	// attribute. A request body encloses it in 3 at most (the body, the
	// data list, the item).
	EventValueDepth = 4
)

// An accepted value always fits in its event: this fails to compile if the
// limits ever disagree.
var _ [MaxJSONDepth - EventValueDepth - MaxValueDepth]struct{}

// ValidValue reports whether v, a valid JSON text, nests at most
// MaxValueDepth deep.
func ValidValue(v json.RawMessage) bool { return ValueDepth(v) <= MaxValueDepth }

// ValueDepth returns how deeply the arrays and objects of v, a valid JSON
// text, nest (0 for a string, number or literal).
func ValueDepth(v []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range v {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > deepest {
				deepest = depth
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
