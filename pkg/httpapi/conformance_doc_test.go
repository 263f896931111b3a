package httpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestConformanceTableNamesTestsThatExist keeps CONFORMANCE.md honest ("no row
// without a test"): every test it names is declared in the package it names, so a
// renamed or deleted test fails here instead of leaving a row without proof. Subtest
// names are checked by running them (the command at the top of CONFORMANCE.md).
func TestConformanceTableNamesTestsThatExist(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "CONFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile("`((?:pkg|infra)/[\\w/]+) ((?:Test|Fuzz)\\w+)(?:/[^`]*)?`").FindAllStringSubmatch(string(doc), -1)
	if len(refs) < 100 {
		t.Fatalf("found %d test references in CONFORMANCE.md; the table format changed?", len(refs))
	}
	sources := map[string]string{}
	for _, ref := range refs {
		dir, name := ref[1], ref[2]
		src, ok := sources[dir]
		if !ok {
			files, err := filepath.Glob(filepath.Join("..", "..", dir, "*_test.go"))
			if err != nil || len(files) == 0 {
				t.Errorf("CONFORMANCE.md names package %s, which has no tests", dir)
				continue
			}
			var b strings.Builder
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(data)
			}
			src = b.String()
			sources[dir] = src
		}
		if !strings.Contains(src, "func "+name+"(") {
			t.Errorf("CONFORMANCE.md names %s %s, which does not exist", dir, name)
		}
	}
}

// repoRoot is the module root, two levels above this package.
var repoRoot = filepath.Join("..", "..")

// TestDesignDecisionsCitedExist keeps the references to docs/design.md honest: every
// "docs/design.md decision N" (also "decisions N and M", "decisions N, M and K",
// continued on the next comment line) and every section it names
// (docs/design.md, "Section"; docs/design.md, Section; the page contract in
// docs/design.md; docs/design.md#anchor) in a tracked text file must have its heading
// in docs/design.md, so a renumbered or removed decision fails here instead of
// leaving code that cites nothing. The decisions themselves must be numbered 1, 2, 3…
// without gaps: the code cites them by number.
func TestDesignDecisionsCitedExist(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	decisions, headings := designHeadings(string(doc))
	for i, n := range decisions {
		if n != i+1 {
			t.Fatalf("docs/design.md numbers its decisions %v; want 1, 2, 3… in order", decisions)
		}
	}
	if len(decisions) < 14 {
		t.Fatalf("docs/design.md has %d numbered decisions (### N. Title); the heading format changed?", len(decisions))
	}
	haveDecision := map[int]bool{}
	for _, n := range decisions {
		haveDecision[n] = true
	}

	var cited, sections int
	files := trackedTextFiles(t)
	for _, path := range slices.Sorted(maps.Keys(files)) {
		for _, ref := range designReferences(files[path]) {
			switch {
			case ref.decision != 0:
				cited++
				if !haveDecision[ref.decision] {
					t.Errorf("%s:%d cites docs/design.md decision %d, which has no heading in docs/design.md", path, ref.line, ref.decision)
				}
			case ref.anchor != "":
				sections++
				if !slices.ContainsFunc(headings, func(h string) bool { return headingSlug(h) == ref.anchor }) {
					t.Errorf("%s:%d links docs/design.md#%s, which is no heading in docs/design.md", path, ref.line, ref.anchor)
				}
			default:
				sections++
				if !slices.ContainsFunc(headings, func(h string) bool { return headingNames(h, ref.section) }) {
					t.Errorf("%s:%d cites docs/design.md section %q, which has no heading in docs/design.md", path, ref.line, ref.section)
				}
			}
		}
	}
	t.Logf("%d decision and %d section references to docs/design.md", cited, sections)
	// The code cites about forty decisions and a handful of sections; far fewer means
	// the patterns below no longer match how references are written.
	if cited < 30 || sections < 4 {
		t.Fatalf("found %d decision and %d section references to docs/design.md; the reference format changed?", cited, sections)
	}
}

// designHeadings returns the numbers of the decision headings ("### 4. Title") in
// order, and the text of every heading, outside code blocks.
func designHeadings(doc string) (decisions []int, headings []string) {
	heading := regexp.MustCompile(`^#{1,6}\s+(.+?)\s*#*$`)
	numbered := regexp.MustCompile(`^(\d+)\.\s`)
	fenced := false
	for line := range strings.Lines(doc) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		m := heading.FindStringSubmatch(line)
		if fenced || m == nil {
			continue
		}
		headings = append(headings, m[1])
		if n := numbered.FindStringSubmatch(m[1]); n != nil {
			num, _ := strconv.Atoi(n[1])
			decisions = append(decisions, num)
		}
	}
	return decisions, headings
}

// headingNames reports whether heading is the section name cites: the same words,
// or the same words followed by more after a non-letter ("Local: …", "Page contract
// (login …)").
func headingNames(heading, name string) bool {
	h, n := strings.ToLower(heading), strings.ToLower(strings.TrimSpace(name))
	if h == n {
		return true
	}
	rest, ok := strings.CutPrefix(h, n)
	return ok && n != "" && !unicode.IsLetter([]rune(rest)[0])
}

// headingSlug is the anchor GitHub gives a heading: lower case, punctuation dropped,
// spaces as hyphens.
func headingSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

type designRef struct {
	line     int
	decision int    // a decision number, or 0
	section  string // a section name, when decision is 0 and anchor empty
	anchor   string // a #fragment of a link to docs/design.md
}

var (
	// designMention is where a reference starts; decisions are cited after it, within
	// the same sentence or so (designWindow bytes).
	designMention = regexp.MustCompile(`design\.md`)
	decisionRef   = regexp.MustCompile(`\bdecisions?\s+(\d+(?:\s*(?:,|and|&|–|-|to)\s*(?:and\s+)?\d+)*)`)
	numberOrRange = regexp.MustCompile(`(\d+)(?:\s*(?:–|-|to)\s*(\d+))?`)
	quotedSection = regexp.MustCompile(`design\.md(?:,\s*|\s+)"([^"]{1,80})"`)
	namedSection  = regexp.MustCompile(`design\.md,\s+([A-Z][A-Za-z-]*)`)
	contractRef   = regexp.MustCompile(`\b([A-Za-z]+) contract in (?:the )?(?:docs/)?design\.md`)
	anchorRef     = regexp.MustCompile(`design\.md#([A-Za-z0-9_-]+)`)
	// commentContinuation joins a line to the next when the next continues a comment
	// (Go, YAML, shell, JavaScript, Markdown), so a reference wrapped across lines
	// ("decisions\n// 3 and 4") reads as one.
	commentContinuation = regexp.MustCompile(`^[ \t]*(?://+|#+|\*+|--|;+|>)?[ \t]*`)
)

const designWindow = 200

// designReferences finds the references to docs/design.md in text.
func designReferences(text string) []designRef {
	// Join the lines into one string, remembering where each line starts in it.
	var joined strings.Builder
	var starts []int
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if len(starts) > 0 {
			line = commentContinuation.ReplaceAllString(line, "")
			joined.WriteByte(' ')
		}
		starts = append(starts, joined.Len())
		joined.WriteString(line)
	}
	s := joined.String()
	lineAt := func(off int) int {
		i, found := slices.BinarySearch(starts, off)
		if !found {
			i--
		}
		return i + 1
	}

	var refs []designRef
	seen := map[[2]int]bool{} // (offset, number): a window may overlap the next mention's
	for _, m := range designMention.FindAllStringIndex(s, -1) {
		end := min(len(s), m[1]+designWindow)
		for _, d := range decisionRef.FindAllStringSubmatchIndex(s[m[1]:end], -1) {
			off := m[1] + d[0]
			list := s[m[1]+d[2] : m[1]+d[3]]
			for _, nr := range numberOrRange.FindAllStringSubmatch(list, -1) {
				lo, _ := strconv.Atoi(nr[1])
				hi := lo
				if nr[2] != "" {
					hi, _ = strconv.Atoi(nr[2])
				}
				for n := lo; n <= hi && n-lo < 100; n++ {
					if !seen[[2]int{off, n}] {
						seen[[2]int{off, n}] = true
						refs = append(refs, designRef{line: lineAt(off), decision: n})
					}
				}
			}
		}
	}
	for _, re := range []*regexp.Regexp{quotedSection, namedSection} {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			refs = append(refs, designRef{line: lineAt(m[0]), section: s[m[2]:m[3]]})
		}
	}
	for _, m := range contractRef.FindAllStringSubmatchIndex(s, -1) {
		refs = append(refs, designRef{line: lineAt(m[0]), section: s[m[2]:m[3]] + " contract"})
	}
	for _, m := range anchorRef.FindAllStringSubmatchIndex(s, -1) {
		refs = append(refs, designRef{line: lineAt(m[0]), anchor: s[m[2]:m[3]]})
	}
	return refs
}

// trackedTextFiles returns the repository's text files (git ls-files, or a walk of
// the tree when git is not there) by slash path from the root, without dependencies,
// test data, docs/design.md itself and this file.
func trackedTextFiles(tb testing.TB) map[string]string {
	tb.Helper()
	var paths []string
	if out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z").Output(); err == nil {
		paths = strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	} else {
		err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != repoRoot && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				rel, err := filepath.Rel(repoRoot, p)
				if err != nil {
					return fmt.Errorf("list files: %w", err)
				}
				paths = append(paths, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("list the repository's files: %v", err)
		}
	}
	text := map[string]string{}
	for _, p := range paths {
		parts := strings.Split(p, "/")
		// docs/design.md is what references point at, and this file spells out the
		// patterns it looks for.
		if p == "" || p == "docs/design.md" || p == "pkg/httpapi/conformance_doc_test.go" ||
			slices.Contains(parts, "node_modules") || slices.Contains(parts, "testdata") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(p)))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted in the work tree, not yet in the index
			}
			tb.Fatalf("read %s: %v", p, err)
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary
		}
		text[p] = string(data)
	}
	return text
}

// importRule is one rule of docs/design.md, "Package layout and import rules".
type importRule struct {
	rule    string
	applies func(dir string) bool // dir is the package's slash path from the root
	tests   bool                  // whether _test.go files are held to it too
	// forbids reports whether the rule forbids imp; internal is imp's path inside
	// the module, or "" for an import from elsewhere.
	forbids func(imp, internal string) bool
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// isAWS covers the AWS SDK, smithy, aws-lambda-go and the Lambda api-proxy.
func isAWS(imp string) bool {
	return strings.HasPrefix(imp, "github.com/aws/") || strings.HasPrefix(imp, "github.com/awslabs/")
}

func isLambda(imp string) bool {
	return under(imp, "github.com/aws/aws-lambda-go") || under(imp, "github.com/awslabs/aws-lambda-go-api-proxy")
}

// ours reports whether internal is one of the module's packages other than those
// allowed (each with its subpackages).
func ours(internal string, allowed ...string) bool {
	return internal != "" && !slices.ContainsFunc(allowed, func(a string) bool { return under(internal, a) })
}

var importRules = []importRule{
	{
		rule:    "the domain (pkg/oauth) imports nothing of AWS, Lambda or net/http, and nothing of ours",
		applies: func(dir string) bool { return dir == "pkg/oauth" },
		forbids: func(imp, internal string) bool {
			return isAWS(imp) || under(imp, "net/http") || ours(internal, "pkg/oauth")
		},
	},
	{
		rule:    "the domain's test kit (pkg/oauth/*) imports pkg/oauth of ours and nothing of AWS or Lambda",
		applies: func(dir string) bool { return strings.HasPrefix(dir, "pkg/oauth/") },
		forbids: func(imp, internal string) bool { return isAWS(imp) || ours(internal, "pkg/oauth") },
	},
	{
		rule:    "the edge (pkg/httpapi) imports pkg/oauth and pkg/metrics of ours and knows no AWS or Lambda",
		applies: func(dir string) bool { return dir == "pkg/httpapi" },
		forbids: func(imp, internal string) bool { return isAWS(imp) || ours(internal, "pkg/oauth", "pkg/metrics") },
	},
	{
		rule:    "the in-memory store (pkg/memory) imports pkg/oauth of ours and nothing of AWS",
		applies: func(dir string) bool { return dir == "pkg/memory" },
		forbids: func(imp, internal string) bool { return isAWS(imp) || ours(internal, "pkg/oauth") },
	},
	{
		rule:    "the relying-party leg of brokered login (pkg/federation) imports pkg/oauth of ours and nothing of AWS",
		applies: func(dir string) bool { return dir == "pkg/federation" },
		forbids: func(imp, internal string) bool { return isAWS(imp) || ours(internal, "pkg/oauth") },
	},
	{
		rule:    "the DynamoDB store (pkg/dynamo) imports pkg/oauth of ours and the AWS SDK, no Lambda",
		applies: func(dir string) bool { return dir == "pkg/dynamo" },
		forbids: func(imp, internal string) bool { return isLambda(imp) || ours(internal, "pkg/oauth") },
	},
	{
		rule:    "the secrets store (pkg/secrets) imports pkg/oauth and pkg/keys of ours and the AWS SDK, no Lambda",
		applies: func(dir string) bool { return dir == "pkg/secrets" },
		forbids: func(imp, internal string) bool { return isLambda(imp) || ours(internal, "pkg/oauth", "pkg/keys") },
	},
	{
		rule:    "the back-channel logout sender (pkg/backchannel) imports pkg/oauth and pkg/clientkeys of ours and nothing of AWS",
		applies: func(dir string) bool { return dir == "pkg/backchannel" },
		forbids: func(imp, internal string) bool { return isAWS(imp) || ours(internal, "pkg/oauth", "pkg/clientkeys") },
	},
	{
		rule:    "the wiring without AWS (pkg/app) imports nothing of AWS or Lambda",
		applies: func(dir string) bool { return dir == "pkg/app" },
		forbids: func(imp, _ string) bool { return isAWS(imp) },
	},
	{
		rule:    "only functions/* and pkg/awsapp import aws-lambda-go or the Lambda api-proxy",
		applies: func(dir string) bool { return !under(dir, "functions") && dir != "pkg/awsapp" },
		forbids: func(imp, _ string) bool { return isLambda(imp) },
	},
	{
		rule:    "the Lambda wiring (pkg/awsapp) links no DynamoDB client: the table store is pkg/awsapp/awstable, which discovery does not import",
		applies: func(dir string) bool { return dir == "pkg/awsapp" },
		forbids: func(imp, internal string) bool {
			return under(imp, "github.com/aws/aws-sdk-go-v2/service/dynamodb") || under(internal, "pkg/dynamo")
		},
	},
	{
		rule:    "the Lambda wiring and the functions (pkg/awsapp, pkg/awsapp/awstable, functions/*) do not import the SDK's config chain: credentials come from Lambda's environment (awsapp.LoadConfig)",
		applies: func(dir string) bool { return under(dir, "pkg/awsapp") || under(dir, "functions") },
		forbids: func(imp, _ string) bool { return under(imp, "github.com/aws/aws-sdk-go-v2/config") },
	},
	{
		rule:    "nothing under pkg/ imports infra/, test files included",
		applies: func(dir string) bool { return under(dir, "pkg") },
		tests:   true,
		forbids: func(_, internal string) bool { return under(internal, "infra") },
	},
}

// TestPackageImportRules checks the import rules of docs/design.md, "Package layout
// and import rules", over every Go file of the module (imports only, with go/parser):
// production files for every rule, test files too where the rule says so.
func TestPackageImportRules(t *testing.T) {
	module := modulePath(t)
	fset := token.NewFileSet()
	var files int
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != repoRoot && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return fmt.Errorf("check imports: %w", err)
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("check imports: %w", err)
		}
		files++
		dir, isTest := path.Dir(rel), strings.HasSuffix(rel, "_test.go")
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("check imports: %s: %w", rel, err)
			}
			internal := ""
			if under(imp, module) {
				internal = strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			}
			for _, r := range importRules {
				if (!isTest || r.tests) && r.applies(dir) && r.forbids(imp, internal) {
					t.Errorf("%s imports %s: %s", rel, imp, r.rule)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("checked %d Go files; the walk from %s missed the module?", files, repoRoot)
	}
}

// modulePath reads the module path from go.mod.
func modulePath(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	tb.Fatal("go.mod names no module")
	return ""
}

// TestConformanceTableNamesCodeThatExists keeps the table's "where" column true: every
// `pkg-relative/file.go: Name` it cites is a file under pkg/ that declares Name (for
// `Type.Field`, the last part), so a rename or a move fails here instead of leaving a
// row that points nowhere.
func TestConformanceTableNamesCodeThatExists(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "CONFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile("`([a-z][a-z0-9_/]*\\.go)(?:: ([\\w.]+))?`").FindAllStringSubmatch(string(doc), -1)
	if len(refs) < 40 {
		t.Fatalf("found %d code references in CONFORMANCE.md; the table format changed?", len(refs))
	}
	for _, ref := range refs {
		file, name := ref[1], ref[2]
		path := filepath.Join("..", file) // relative to pkg/, or to the repository for infra/
		if strings.HasPrefix(file, "infra/") {
			path = filepath.Join("..", "..", file)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("CONFORMANCE.md cites %s, which is not a file under pkg/ or infra/", file)
			continue
		}
		if name == "" {
			continue
		}
		name = name[strings.LastIndex(name, ".")+1:]
		decl := regexp.MustCompile(`(?m)^(?:func (?:\([^)]*\) )?|type |var |const |\t)` + regexp.QuoteMeta(name) + `\b`)
		if !decl.Match(src) {
			t.Errorf("CONFORMANCE.md cites %s: %s, which %s does not declare", file, ref[2], file)
		}
	}
}
