// Package docs holds the product's own documentation: the API reference
// (API.md), its machine-readable form (openapi.json), the event catalogue
// (events.md) and the performance notes. Its tests keep the repository's
// Markdown links resolvable.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the HTTP API (openapi.json), which
// the service serves at GET /openapi.json. The tests of httpapi check every
// answer they get against it (internal/apicheck), so it describes what the
// service answers.
//
//go:embed openapi.json
var OpenAPI []byte
