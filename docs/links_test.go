package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's top directory, seen from this package.
const repoRoot = ".."

// markdownFiles returns the repository's Markdown files, relative to its
// root, skipping hidden directories (.git and the like).
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the repository: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no Markdown files found")
	}
	return files
}

var (
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	inlineLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLink    = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*(\S+)`)
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	htmlID     = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	linkText   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// slug is the anchor GitHub gives a heading: lower case, punctuation other
// than - and _ dropped, spaces made hyphens.
func slug(text string) string {
	text = linkText.ReplaceAllString(text, "$1") // a link: its text
	text = strings.ToLower(strings.TrimSpace(text))
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127 && r != '…' && r != '→' && r != '—':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// doc is what a Markdown file offers and asks: its anchors and its links.
type doc struct {
	anchors map[string]bool
	links   []link
}

type link struct {
	line   int
	target string
}

func parse(t *testing.T, text string) doc {
	t.Helper()
	d := doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			d.anchors[m[1]] = true
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			s := slug(strings.ReplaceAll(m[2], "`", ""))
			if n := seen[s]; n > 0 {
				d.anchors[s+"-"+itoa(n)] = true
			} else {
				d.anchors[s] = true
			}
			seen[s]++
		}
		plain := codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(plain, -1) {
			d.links = append(d.links, link{i + 1, m[1]})
		}
		if m := refLink.FindStringSubmatch(plain); m != nil {
			d.links = append(d.links, link{i + 1, m[1]})
		}
	}
	return d
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		if n /= 10; n == 0 {
			return s
		}
	}
}

// TestMarkdownLinks_Resolve fails on a relative link of any Markdown file
// of the repository whose file does not exist, or whose #anchor names no
// heading (or <a id>) of the Markdown file it points to.
func TestMarkdownLinks_Resolve(t *testing.T) {
	files := markdownFiles(t)
	docs := map[string]doc{}
	load := func(rel string) (doc, bool) {
		if d, ok := docs[rel]; ok {
			return d, true
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			return doc{}, false
		}
		d := parse(t, string(data))
		docs[rel] = d
		return d, true
	}
	checked := 0
	for _, f := range files {
		d, _ := load(f)
		for _, l := range d.links {
			target := l.target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			rel := f
			if path != "" {
				if strings.HasPrefix(path, "/") {
					t.Errorf("%s:%d: link %q is absolute; use a path relative to the file", f, l.line, target)
					continue
				}
				rel = filepath.Clean(filepath.Join(filepath.Dir(f), path))
				if strings.HasPrefix(rel, "..") {
					t.Errorf("%s:%d: link %q points outside the repository", f, l.line, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, rel)); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", f, l.line, target, rel)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(rel, ".md") {
				continue
			}
			td, _ := load(rel)
			if !td.anchors[anchor] {
				t.Errorf("%s:%d: link %q: %s has no heading or anchor %q", f, l.line, target, rel, anchor)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found: the scanner is broken")
	}
}

// TestSlug holds slug to GitHub's anchors for headings of the kinds the
// repository has.
func TestSlug(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Differences from Zato", "differences-from-zato"},
		{"Sessions, callers and permissions", "sessions-callers-and-permissions"},
		{"`attr.created`", "attrcreated"},
		{"Events: the stream, its subjects, and how to follow it", "events-the-stream-its-subjects-and-how-to-follow-it"},
		{"Run A (2026-11-23): the set 0.84", "run-a-2026-11-23-the-set-084"},
		{"Error codes", "error-codes"},
	} {
		if got := slug(strings.ReplaceAll(c.in, "`", "")); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
