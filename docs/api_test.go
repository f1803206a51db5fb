package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	codeLiteral = regexp.MustCompile(`"([EW][0-9]{6})"`)
	codeRow     = regexp.MustCompile("(?m)^\\| `([EW][0-9]{6})` \\|")
)

// TestAPIDoc_ListsEveryCode fails when a status code written in the Go
// code (outside tests) has no row in docs/API.md#error-codes, or a row
// names a code the code never writes.
func TestAPIDoc_ListsEveryCode(t *testing.T) {
	inCode := map[string]string{} // code -> a file that writes it
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range codeLiteral.FindAllStringSubmatch(string(data), -1) {
			inCode[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := os.ReadFile("API.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range codeRow.FindAllStringSubmatch(string(api), -1) {
		rows = append(rows, m[1])
	}
	if len(inCode) < 20 || len(rows) < 20 {
		t.Fatalf("found %d codes in the code and %d rows in API.md: the scan is broken", len(inCode), len(rows))
	}
	for code, file := range inCode {
		if !slices.Contains(rows, code) {
			t.Errorf("%s writes %s, which docs/API.md#error-codes does not list: add a row (meaning, HTTP status)", file, code)
		}
	}
	for _, code := range rows {
		if _, ok := inCode[code]; !ok {
			t.Errorf("docs/API.md#error-codes lists %s, which no Go code writes", code)
		}
	}
}
