package docs_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// outside matches what points outside the repository: the directory
// beside it and the external specification, by name or by section number.
// It is built from pieces so that this file does not match it.
var outside = regexp.MustCompile(`\.\./` + `shared|SPEC` + `\.md|\bSPEC` + ` [0-9]`)

// TestRepository_PointsNowhereOutside fails when a file of the repository
// points to the directory beside it or to the external specification: the
// API reference is docs/API.md, and comments, help texts and documents
// cite its sections.
func TestRepository_PointsNowhereOutside(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != repoRoot && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and the like
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data, 0) >= 0 {
			return nil // binary
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if m := outside.FindString(line); m != "" {
				rel, _ := filepath.Rel(repoRoot, path)
				t.Errorf("%s:%d mentions %q: cite a section of docs/API.md instead", rel, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d files: the walk is broken", checked)
	}
}
