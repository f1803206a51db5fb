// Package apicheck checks answers of the HTTP API against its OpenAPI 3.1
// document (docs/openapi.json), for tests: the status must be one the
// operation documents, the headers and the body must match it.
//
// kin-openapi loads and validates the document and finds the operation of a
// request. Headers and bodies are checked against the response's schemas by
// the JSON Schema 2020-12 validator that kin-openapi itself uses for
// OpenAPI 3.1 (santhosh-tekuri/jsonschema), with each schema compiled once:
// kin-openapi's openapi3filter compiles it again for every answer, which
// made the checks cost twice as much as the tests they check.
//
// nodetest checks every answer its Do gets with it, so any test that talks
// to an instance through nodetest keeps the document honest.
package apicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ssoattr/ssoattr/docs"
)

// resource is the name the document is known by to the schema compiler.
const resource = "openapi.json"

// Doc is the loaded document, a router over its operations, and the
// compiled response schemas.
type Doc struct {
	T      *openapi3.T
	router routers.Router
	raw    map[string]any // the document as JSON, to follow a response's $ref

	mu       sync.Mutex // guards compiler and schemas
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

// Load parses and validates docs.OpenAPI once; later calls return the same.
var Load = sync.OnceValues(func() (*Doc, error) {
	t, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load docs/openapi.json: %w", err)
	}
	if !t.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("docs/openapi.json is OpenAPI %s, want 3.1", t.OpenAPI)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("docs/openapi.json is not a valid OpenAPI document: %w", err)
	}
	r, err := gorillamux.NewRouter(t)
	if err != nil {
		return nil, fmt.Errorf("route docs/openapi.json: %w", err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.OpenAPI))
	if err != nil {
		return nil, fmt.Errorf("read docs/openapi.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's default dialect
	if err := c.AddResource(resource, raw); err != nil {
		return nil, fmt.Errorf("compile docs/openapi.json: %w", err)
	}
	m, _ := raw.(map[string]any)
	return &Doc{T: t, router: r, raw: m, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
})

// Operations returns every documented operation as "METHOD path", sorted.
func (d *Doc) Operations() []string {
	var out []string
	for path, item := range d.T.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// ErrUndocumented reports an answer other than 404/405 to a request that no
// documented operation matches: a route the document lacks.
var ErrUndocumented = errors.New("no operation of docs/openapi.json matches the request")

// Check checks one answer to req. A request no operation matches must have
// been answered 404 or 405 with the error envelope (an unknown path or
// method); anything else is ErrUndocumented. Streams (text/event-stream)
// are checked by status and headers only: pass a nil body.
func (d *Doc) Check(req *http.Request, status int, header http.Header, body []byte) error {
	route, _, err := d.router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s answered %d: %w; document it", req.Method, req.URL.Path, status, ErrUndocumented)
		}
		if err := d.checkBody("#/components/schemas/Error", body); err != nil {
			return fmt.Errorf("%s %s answered %d: %w", req.Method, req.URL.Path, status, err)
		}
		return sameCID(header, body)
	}
	what := fmt.Sprintf("%s %s (%s) answered %d", req.Method, req.URL.Path, route.Operation.OperationID, status)
	resp, ptr := d.response(route.Path, req.Method, status)
	if resp == nil {
		return fmt.Errorf("%s: the operation documents no such status", what)
	}
	if err := d.checkHeaders(resp, ptr, header); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	bodyPtr, err := d.bodySchema(resp, ptr, header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if body != nil && bodyPtr != "" {
		if err := d.checkBody(bodyPtr, body); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return sameCID(header, body)
}

// response returns the response object an operation documents for status,
// and its JSON pointer, following a $ref; nil when there is none.
func (d *Doc) response(path, method string, status int) (map[string]any, string) {
	ptr := "#/paths/" + escape(path) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(status)
	return d.follow(ptr)
}

// follow returns the object at ptr, or at the $ref it holds, and where it is.
func (d *Doc) follow(ptr string) (map[string]any, string) {
	obj, _ := d.at(ptr).(map[string]any)
	if ref, ok := obj["$ref"].(string); ok {
		ptr = ref
		obj, _ = d.at(ptr).(map[string]any)
	}
	return obj, ptr
}

// checkHeaders checks that the required headers of a response are present
// and that every documented header sent matches its schema.
func (d *Doc) checkHeaders(resp map[string]any, ptr string, header http.Header) error {
	hs, _ := resp["headers"].(map[string]any)
	for name := range hs {
		h, hptr := d.follow(ptr + "/headers/" + escape(name))
		if h == nil {
			return fmt.Errorf("header %s: no such object in docs/openapi.json", name)
		}
		vals, sent := header[http.CanonicalHeaderKey(name)]
		if !sent {
			if req, _ := h["required"].(bool); req {
				return fmt.Errorf("header %s missing", name)
			}
			continue
		}
		if _, ok := h["schema"]; !ok {
			continue
		}
		sch, err := d.schema(hptr + "/schema")
		if err != nil {
			return err
		}
		for _, v := range vals {
			if err := sch.Validate(v); err != nil {
				return fmt.Errorf("header %s: %v", name, err)
			}
		}
	}
	return nil
}

// bodySchema returns the JSON pointer of the schema a body must match (""
// when the response documents none). The answer's media type must be one
// the response documents.
func (d *Doc) bodySchema(resp map[string]any, ptr, contentType string) (string, error) {
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("Content-Type %q: %w", contentType, err)
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		return "", fmt.Errorf("Content-Type %q is not one the response documents", contentType)
	}
	if _, ok := media["schema"]; !ok {
		return "", nil
	}
	return ptr + "/content/" + escape(mt) + "/schema", nil
}

// at returns the value at a JSON pointer ("#/a/b") of the document.
func (d *Doc) at(ptr string) any {
	var v any = d.raw
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		v = m[tok]
	}
	return v
}

// escape makes s one token of a JSON pointer.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// checkBody validates a JSON body against the schema at ptr.
func (d *Doc) checkBody(ptr string, body []byte) error {
	sch, err := d.schema(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("body does not match %s: %v", ptr, err)
	}
	return nil
}

// schema returns the compiled schema at ptr, compiling it the first time.
func (d *Doc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ptr]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(resource + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	d.schemas[ptr] = s
	return s, nil
}

// sameCID checks that a JSON envelope's cid is the X-Zato-CID header, as
// docs/API.md#envelope promises.
func sameCID(header http.Header, body []byte) error {
	if body == nil {
		return nil
	}
	var env struct {
		CID *string `json:"cid"`
	}
	if json.Unmarshal(body, &env) != nil || env.CID == nil {
		return nil // not an envelope (/healthz, /openapi.json)
	}
	if h := header.Get("X-Zato-CID"); h != *env.CID {
		return fmt.Errorf("cid %q in the body, %q in X-Zato-CID", *env.CID, h)
	}
	return nil
}
