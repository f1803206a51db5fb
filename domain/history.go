package domain

// Limits of a history page (docs/API.md#attribute-history).
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// HistoryLimit is the page size a history's limit asks for: below 1,
// DefaultHistoryLimit; above MaxHistoryLimit, that maximum.
func HistoryLimit(limit int64) int {
	if limit < 1 {
		return DefaultHistoryLimit
	}
	return int(min(limit, MaxHistoryLimit))
}

// CheckHistoryName is the rule of a history's name filter: nil (not sent:
// every attribute) or a ValidName. It returns ErrInvalidInput otherwise, an
// empty name included.
func CheckHistoryName(name *string) error {
	if name != nil && !ValidName(*name) {
		return ErrInvalidInput
	}
	return nil
}
